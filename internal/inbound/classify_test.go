package inbound

import (
	"slices"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Mails as people write them, in each language the rules read.
func TestClassify(t *testing.T) {
	tests := []struct {
		name         string
		subject      string
		text         string
		want         []request.Type // none when an operator must read it
		guess        request.Type
		language     i18n.Lang
		jurisdiction string
	}{
		{
			name:    "English subject access request",
			subject: "Subject Access Request",
			text: `Dear Sir or Madam,

Under Article 15 of the GDPR I am requesting a copy of all personal data you hold about me,
the purposes of the processing and the recipients.

Yours faithfully,
Jane Roe`,
			want: []request.Type{request.Access}, language: English, jurisdiction: "EU",
		},
		{
			name:    "English deletion, no law named",
			subject: "Please delete my account",
			text: `Hi,

I no longer use your app. Please delete my account and all personal data associated with this
email address, and confirm once it is done.

Thanks,
John`,
			want: []request.Type{request.Delete}, language: English,
		},
		{
			name:    "English right to be forgotten in the body only",
			subject: "My data",
			text:    "Hello, I am exercising my right to be forgotten. Kind regards",
			want:    []request.Type{request.Delete}, language: English,
		},
		{
			name:    "CCPA do-not-sell from California",
			subject: "Do Not Sell or Share My Personal Information",
			text:    "I am a California resident and I opt out of the sale of my personal information under the CCPA.",
			want:    []request.Type{request.OptOut}, language: English, jurisdiction: "US-CA",
		},
		{
			name:    "UK GDPR names the UK, not the EU",
			subject: "SAR",
			text:    "Please treat this as a subject access request under the UK GDPR.",
			want:    []request.Type{request.Access}, language: English, jurisdiction: "UK",
		},
		{
			name:    "English rectification",
			subject: "Wrong address on file",
			text:    "Hello, my postal address is wrong in your records. Please rectify it to the one below.",
			want:    []request.Type{request.Correct}, language: English,
		},
		{
			name:    "German Auskunftsersuchen",
			subject: "Auskunftsersuchen nach Art. 15 DSGVO",
			text: `Sehr geehrte Damen und Herren,

hiermit bitte ich Sie um Auskunft, ob Sie personenbezogene Daten über mich verarbeiten.
Bitte stellen Sie mir eine Kopie meiner Daten zur Verfügung.

Mit freundlichen Grüßen
Jürgen Weiß`,
			want: []request.Type{request.Access}, language: German, jurisdiction: "EU",
		},
		{
			name:    "German deletion mentioning stored data",
			subject: "Löschung meiner Daten",
			text: `Hallo,

bitte löschen Sie mein Kundenkonto und alle zu meiner Person gespeicherten Daten gemäß Art. 17 DSGVO
und bestätigen Sie mir die Löschung.

Viele Grüße
Anna`,
			want: []request.Type{request.Delete}, language: German, jurisdiction: "EU",
		},
		{
			name:    "German deletion in transliterated spelling",
			subject: "Loeschung",
			text:    "Bitte loeschen Sie meine Daten. Danke",
			want:    []request.Type{request.Delete}, language: German,
		},
		{
			name:    "German objection",
			subject: "Widerspruch gegen Werbung",
			text:    "Ich widerspreche der Nutzung meiner Daten für Werbezwecke.",
			want:    []request.Type{request.Object}, language: German,
		},
		{
			name:    "Finnish access request",
			subject: "Tarkastuspyyntö",
			text: `Hei,

pyydän saada tietää, mitä henkilötietoja minusta on tallennettu rekistereihinne
(EU:n tietosuoja-asetuksen 15 artikla). Haluan saada kopion tiedoistani.

Ystävällisin terveisin
Matti Virtanen`,
			want: []request.Type{request.Access}, language: Finnish, jurisdiction: "EU",
		},
		{
			name:    "Finnish deletion",
			subject: "Tietojeni poistaminen",
			text:    "Hei, pyydän että poistatte kaikki minua koskevat tiedot järjestelmistänne. Kiitos.",
			want:    []request.Type{request.Delete}, language: Finnish,
		},
		{
			name:    "Finnish correction",
			subject: "Virheellinen osoite",
			text:    "Hei, osoitteeni on väärin. Korjatkaa se ja oikaiskaa tietoni. Terveisin Päivi",
			want:    []request.Type{request.Correct}, language: Finnish,
		},
		{
			name:    "Norwegian access request, answered in Norwegian",
			subject: "Innsynsbegjæring",
			text: `Hei,

jeg ber om innsyn i personopplysningene dere har om meg, jf. personvernforordningen artikkel 15.

Vennlig hilsen
Kari Nordmann`,
			want: []request.Type{request.Access}, language: Norwegian, jurisdiction: "EEA-NO",
		},
		{
			name:    "Swedish erasure request, answered in Swedish",
			subject: "Begäran om radering",
			text: `Hej,

jag begär att ni raderar alla personuppgifter om mig enligt artikel 17 i dataskyddsförordningen.

Med vänliga hälsningar
Anna Svensson`,
			want: []request.Type{request.Delete}, language: Swedish, jurisdiction: "EU",
		},
		{name: "Norwegian: do not sell", subject: "Salg", text: "Hei, vennligst ikke selg opplysningene mine til andre. Hilsen Ola",
			want: []request.Type{request.OptOut}, language: Norwegian},
		{name: "Swedish: no sale", subject: "Hej", text: "Hej, jag vill att ni slutar med försäljning av mina personuppgifter. Mvh",
			want: []request.Type{request.OptOut}, language: Swedish},
		{name: "Swedish appeal as a request to reconsider", subject: "Beslut", text: "Jag begär omprövning av ert beslut i ärende dsr-20261123-0123456789abcdef.",
			want: []request.Type{request.Appeal}, language: Swedish},
		{name: "Norwegian appeal", subject: "Avgjørelse", text: "Jeg klager på avgjørelsen i sak dsr-20261123-0123456789abcdef.",
			want: []request.Type{request.Appeal}, language: Norwegian},
		{name: "Swedish: stop sending", subject: "Reklam", text: "Sluta skicka reklam till mig, tack.",
			want: []request.Type{request.Object}, language: Swedish},
		{name: "Norwegian: stop sending", subject: "Nyhetsbrev", text: "Vennligst slutt å sende meg nyhetsbrev.",
			want: []request.Type{request.Object}, language: Norwegian},
		{name: "Swedish: move my data", subject: "Byte", text: "Kan ni flytta mina uppgifter till en annan leverantör?",
			want: []request.Type{request.Portability}, language: Swedish},
		{
			name:     "an order question is nothing the rules know",
			subject:  "Where is my order?",
			text:     "Hello, I ordered a blue jumper last week (order 12345). When will it ship? Thanks",
			language: English,
		},
		{
			name:    "a copy and then deletion are two requests, in that order",
			subject: "My data",
			text:    "Please delete my account, but first send me a copy of my data.",
			want:    []request.Type{request.Access, request.Delete}, language: English,
		},
		{
			name:    "asking what data is held is an access request",
			subject: "Question",
			text:    "Can you tell me what data you have about me?",
			want:    []request.Type{request.Access}, language: English,
		},
		{
			name:    "a right only mentioned is not asked for",
			subject: "Feedback",
			text:    "I deleted the app yesterday because it kept crashing.",
			guess:   request.Delete, language: English,
		},
		{
			name:    "one right or another is for an operator",
			subject: "My data",
			text:    "Please either correct or delete my address, whichever you prefer.",
			guess:   request.Delete, language: English,
		},
		{
			name:    "a quoted earlier mail does not count",
			subject: "Re: Your order",
			text: `Thanks, that answers my question.

> We will delete your account on request.
> Please delete my data if you want.
-- 
Delete this signature`,
			language: English,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(tt.subject, tt.text)
			if !slices.Equal(c.Types, tt.want) {
				t.Errorf("types %q (guess %q, why %q), want %q", c.Types, c.Guess, c.Why, tt.want)
			}
			if tt.guess != "" && c.Guess != tt.guess {
				t.Errorf("guess %q, want %q", c.Guess, tt.guess)
			}
			if c.Language != tt.language {
				t.Errorf("language %q, want %q", c.Language, tt.language)
			}
			if c.Jurisdiction != tt.jurisdiction {
				t.Errorf("jurisdiction %q, want %q", c.Jurisdiction, tt.jurisdiction)
			}
		})
	}
}

func TestPhrase(t *testing.T) {
	tests := []struct {
		phrase string
		text   string
		want   int
	}{
		{"delete my", "Please delete my data, delete my account", 2},
		{"lösch*", "Löschung und löschen", 2},
		{"copy of _ data", "a copy of my data", 1},
		{"art 15", "Art. 15 Abs. 3 DSGVO", 1},
		{"don t sell", "Don’t sell my data", 1},
		{"delete my", "undelete myself", 0},
		{"grüsse", "Grüße", 1},
	}
	for _, tt := range tests {
		if got := parsePhrase(tt.phrase).count(tokens(tt.text)); got != tt.want {
			t.Errorf("%q in %q: %d, want %d", tt.phrase, tt.text, got, tt.want)
		}
	}
}
