package inbound

import "github.com/privacy-pipeline/dsr/internal/request"

// The words the rules read letters by, per language. Every phrase is
// matched against folded words (see fold): write it with or without
// diacritics. "*" ends a prefix, "_" is any one word, "~N" up to N words.
//
// A letter is read the way an operator reads it: a right named in a
// sentence that asks for something (a marker: "please", "I request",
// "bitte", "je vous demande", an imperative) is asked for; named anywhere
// else it is context. Phrases marked "!" ask by themselves ("delete my",
// "I object", "do not sell").

// Languages the rules read. Those the catalogue speaks get answers in
// their own language; the rest are answered in English.
const (
	langEN = "en"
	langDE = "de"
	langFI = "fi"
	langNB = "nb"
	langSV = "sv"
	langDA = "da"
	langFR = "fr"
	langES = "es"
	langIT = "it"
	langNL = "nl"
	langPL = "pl"
	langPT = "pt"
)

// mentionTable lists, per type, the phrases that name it in any language.
// A language only shapes which words are listed: a French phrase counts in
// a letter that mixes languages as well.
var mentionTable = map[request.Type][]string{
	request.Access: {
		// English
		"!send me a copy", "!send me copies", "!provide me with a copy", "!provide me a copy", "!provide a copy", "!give me a copy",
		"!give me access", "!grant me access", "!let me know what", "!tell me what", "!tell me whether you", "!confirm whether",
		"!send me all", "!send me my data", "!send me my personal", "!provide me with all", "!provide me with my",
		"!provide me with the personal", "!provide me with the information you", "!disclose to me",
		"what personal data you", "what data you", "what personal information you", "what information you hold",
		"which personal data", "access to my", "access to the personal", "access to all", "access to any", "copy of my",
		"copy of all", "copy of any", "copy of the personal", "copy of the data", "copy of the information", "copies of my",
		"copies of all", "subject access", "right of access", "right to access", "access request", "request access",
		"requesting access", "right to know", "request to know", "specific pieces of personal", "categories of personal information you have collected",
		"sar", "dsar", "make a sar",
		// German
		"auskunft*", "selbstauskunft*", "datenauskunft*", "kopie meiner", "kopie der _ daten", "kopie aller", "kopie samtlicher",
		"kopie der daten", "kopie der personenbezogenen", "welche daten", "welche personenbezogenen", "einsicht in meine",
		"!teilen sie mir mit welche", "!stellen sie mir eine kopie", "!senden sie mir", "!ubermitteln sie mir eine kopie",
		// Finnish
		"tarkastusoikeu*", "tarkastuspyyn*", "tarkastaa", "tietojeni tarkast*", "tietojen tarkast*", "paasyoikeu*",
		"paasy tietoihin*", "kopio*", "jaljenn*", "mita tietoja", "mita henkilotietoja", "nahda _ tiedot*", "nahda tiedot*",
		"!toimittakaa minulle", "!lahettakaa minulle",
		// Norwegian
		"innsyn*", "kopi av", "hvilke opplysninger", "hvilke personopplysninger", "!send meg en kopi", "!gi meg innsyn",
		// Swedish
		"registerutdrag*", "tillgang till", "kopia av", "kopia pa", "vilka personuppgifter", "vilka uppgifter",
		"!skicka mig en kopia", "!skicka mig",
		// Danish
		"indsigt*", "kopi af",
		// French
		"acces a mes", "acces aux donnees", "acces a l ensemble", "acces a toutes", "droit d acces", "demande d acces",
		"copie de mes", "copie des donnees", "copie de l ensemble", "copie de toutes", "communication de mes",
		"communication de l ensemble", "quelles donnees", "!communiquez moi", "!me communiquer", "!transmettre une copie",
		// Spanish
		"derecho de acceso", "acceso a mis", "acceso a los datos", "acceso a todos", "copia de mis", "copia de los datos",
		"copia de todos", "que datos", "solicitud de acceso", "!facilitenme", "!remitanme", "!envienme",
		// Italian
		"diritto di accesso", "accesso ai miei", "accesso ai dati", "accesso a tutti", "copia dei", "copia di tutti",
		"quali dati", "richiesta di accesso", "!fornirmi copia", "!inviarmi copia", "!trasmettermi",
		// Dutch
		"inzage*", "recht op inzage", "kopie van mijn", "kopie van de", "kopie van alle", "kopie van al", "welke gegevens",
		"welke persoonsgegevens", "!stuur mij een kopie", "!verstrek mij",
		// Polish
		"dostep* do", "kopi* moich", "kopii danych", "kopie danych", "jakie dane", "prawo dostepu",
		// Portuguese
		"acesso aos meus", "acesso aos dados", "acesso a todos", "copia dos meus", "copia de todos", "copia dos dados",
		"quais dados", "confirmacao da existencia", "direito de acesso",
	},
	request.Delete: {
		"!delete my", "!delete all", "!delete me", "!delete any", "!delete the personal", "!delete this", "!delete it",
		"!delete them", "!delete every", "!erase my", "!erase all", "!erase any", "!erase the personal", "!erase it",
		"!remove my", "!remove all my", "!remove any", "!remove me from your database*", "!remove me from your system*",
		"!wipe my", "!purge my", "!destroy my", "deletion", "delet*", "erasure", "erase", "erased", "right to be forgotten",
		"be forgotten", "removal of my", "removal of all",
		// German
		"losch*", "loesch*", "vergessenwerden*", "vergessen zu werden", "!entfernen sie", "entfernung meiner", "vernicht*",
		// Finnish
		"poist*", "unohdetuksi",
		// Norwegian, Danish
		"slett*", "!slett mine", "!slett alle", "!slett meg", "!fjern mine", "!fjerne mine", "!fjern alle", "bli glemt",
		// Swedish
		"radera*", "radering*", "!radera mina", "!radera alla", "!ta bort mina", "!ta bort alla", "ta bort", "tas bort",
		"bortglomd", "utplana*",
		// French
		"effac*", "suppression", "supprim*", "droit a l oubli", "droit a l effacement",
		// Spanish
		"supresion", "suprim*", "borrar", "borren", "borrado", "borrados", "elimin*", "cancelacion", "derecho al olvido",
		// Italian
		"cancellazione", "cancellare", "cancelliate", "cancellate", "cancellato", "cancellati", "eliminazione", "eliminare",
		"oblio",
		// Dutch
		"verwijder*", "te wissen", "gewist", "!wis mijn", "vergetelheid", "vergeten te worden",
		// Polish
		"usuniec*", "usunac", "!usuncie", "usuniete", "bycia zapomnianym",
		// Portuguese
		"eliminacao", "exclusao", "!excluam", "excluir", "apagar", "!apaguem", "apagamento",
	},
	request.Portability: {
		"portability", "portable format", "machine readable", "machine-readable", "structured commonly used",
		"transmit my data", "transfer my data", "transmit my personal", "transmitted directly",
		"datenubertragbarkeit", "datenuebertragbarkeit", "ubertragbarkeit", "maschinenlesbar*",
		"siirrettavyy*", "siirto oikeu*", "koneluettava*",
		"dataportabilitet", "portabilitet", "maskinlesbar*", "maskinlasbar*", "overfore opplysningene", "overfores direkte",
		"flytte opplysningene", "overfora mina", "overfors direkt", "flytta mina uppgifter", "flytta mina personuppgifter",
		"portabilite", "lisible par machine", "portabilidad", "lectura mecanica", "portabilita", "leggibile da dispositivo",
		"overdraagbaarheid", "dataportabiliteit", "machineleesba*", "przenoszeni*", "portabilidade",
	},
	request.Correct: {
		"rectif*", "!correct my", "correct or", "correct and", "!correct the", "!correct it", "!correct this", "!correct these", "be corrected",
		"correction of", "correction to", "inaccurate", "incorrect", "is wrong", "are wrong", "out of date", "outdated",
		"!update my", "!change my", "!amend my", "misspel*", "has changed", "have changed", "fix that", "fix it", "!fix my",
		"fix this", "fix these", "got my ~3 wrong",
		"berichtig*", "korrigier*", "korrektur", "unrichtig*", "!andern sie", "aktualisier*", "falsch",
		"oikaiskaa", "oikaista", "oikaisemaan", "oikaisua", "oikaisupyyn*", "oikaisemista", "oikaisuoikeu*", "oikaisemiseen",
		"!korjatkaa", "korjata", "korjaamaan", "virheelli*",
		"retting", "!rett opp", "rette ~2 opp", "korriger*", "feilaktig*", "uriktig*", "!endre mine", "!oppdater",
		"rette det", "rette dette", "rette dem", "rette feil*", "rette opplysning*", "stavet feil", "feilstavet", "er feil",
		"feil registrert", "ikke riktig*",
		"rattelse", "ratta", "!rätta", "felaktig*", "!uppdatera", "!andra mina", "felstavat", "ar fel", "fel registrerad*",
		"inte korrekt*",
		"rectification", "rectifier", "!rectifiez", "!corriger", "!corrigez", "inexact*", "errone*", "!mettre a jour",
		"rectificacion", "rectificar", "!rectifiquen", "!corrijan", "corregir", "erroneo*", "inexacto*",
		"rettifica*", "correggere", "!correggete", "inesatt*", "errat*",
		"rectificatie", "corrigeren", "!corrigeer", "correctie", "onjuist*", "foutie*", "!wijzig",
		"sprostowani*", "sprostowac", "!popraw*", "poprawieni*", "nieprawidlow*",
		"correcao", "!corrigir", "retificacao", "retificar", "incorret*", "desatualizad*",
	},
	request.Restrict: {
		"restrict*", "restriction of processing", "!block my",
		"einschrankung der verarbeitung", "einschraenkung der verarbeitung", "verarbeitung einschrank*", "!schranken sie",
		"einzuschranken", "sperrung", "!sperren sie",
		"kasittelyn rajoit*", "rajoittaa _ kasittely*", "rajoittamaan", "!rajoittakaa",
		"begrensning av behandlingen", "begrense behandlingen", "begransning av behandlingen", "begransa behandlingen",
		"limitation du traitement", "limiter le traitement", "limitacion del tratamiento", "limiten el tratamiento",
		"limitazione del trattamento", "limitare il trattamento", "beperking van de verwerking", "verwerking te beperken",
		"ograniczeni* przetwarzania", "limitacao do tratamento", "bloqueio",
	},
	request.Object: {
		"!i object", "!we object", "object to", "objection to", "objection under", "right to object", "!stop sending me",
		"!stop using my", "!stop processing my", "!no longer process", "!cease processing", "!opt out of marketing",
		"!unsubscribe me", "!remove me from your mailing", "!remove me from your marketing", "direct marketing",
		"widerspruch*", "widersprech*", "widerspreche*", "werbewiderspruch",
		"vastustamisoikeu*", "!vastustan", "vastustaa", "suoramarkkinoin*",
		"!jeg protesterer", "protest mot", "!motsetter meg", "innsigelse", "reservasjon mot",
		"invandning*", "!jag invander", "invanda", "!motsatter mig", "direktmarknadsforing", "direkte markedsforing",
		"!slutt a sende meg", "!slutt a bruke opplysningene", "!sluta skicka", "!sluta anvanda mina",
		"!je m oppose", "droit d opposition", "opposition au traitement", "m opposer", "prospection",
		"!me opongo", "derecho de oposicion", "oponerme", "oposicion al tratamiento",
		"!mi oppongo", "diritto di opposizione", "oppormi", "opposizione al trattamento",
		"bezwaar", "!maak bezwaar", "recht van bezwaar",
		"sprzeciw*", "!me oponho", "oposicao ao tratamento", "direito de oposicao",
	},
	request.OptOut: {
		"!do not sell", "!don t sell", "!dont sell", "!opt out of the sale", "!opt out of sale", "!opt out of the sharing",
		"!opt out of sharing", "sale of my personal", "sale or sharing", "selling my", "!stop selling", "!do not share",
		"sharing of my personal", "cross context behavioral",
		"verkauf meiner", "nicht zu verkaufen", "!nicht verkaufen", "myymasta", "myyntia",
		"!ikke selg", "ikke a selge", "salg av mine", "salg av personopplysning*", "!salj inte", "inte salja",
		"forsaljning av mina", "forsaljning av personuppgifter",
	},
	request.Limit: {
		"!limit the use of my sensitive", "!limit use of my sensitive", "!limit the use and disclosure", "right to limit",
		"limit the use of sensitive",
		"begrense bruken av mine sensitive", "!begrens bruken av mine sensitive", "begransa anvandningen av mina kansliga",
		"!begransa anvandningen av mina kansliga",
	},
	request.Appeal: {
		"!i appeal", "!i am appealing", "!hereby appeal", "appeal your decision", "appeal the decision", "appeal against",
		"appeal of your decision", "this is an appeal", "formal appeal", "!i wish to appeal", "!i would like to appeal",
		"!i want to appeal", "reconsider your decision", "reconsider the decision",
		"einspruch*", "widerspruch gegen ihre entscheidung", "widerspruch gegen die entscheidung",
		"muutoksenhak*", "!valitan", "oikaisuvaatimu*", "paklag*", "!jeg klager pa", "klage pa avgjorelsen",
		"klage pa vedtaket", "klager pa avgjorelsen", "vurdere avgjorelsen ~2 pa nytt",
		"overklag*", "omprovning av ert beslut", "omprova ert beslut", "omprova beslutet", "recours contre votre decision", "!je conteste votre decision", "recurso contra", "!recurro",
		"ricorso contro", "bezwaar tegen uw beslissing", "odwolani*", "recurso da decisao",
	},
}

// unsupportedTable names requests the pipeline has no type for: an operator
// must answer them (GDPR Art 22: not to be subject to a decision based
// solely on automated processing).
var unsupportedTable = []string{
	"automated decision*", "automated individual decision*", "solely on automated", "human intervention",
	"automatisierte* entscheidung*", "automatisierten einzelfall*", "automatisoitu* paato*", "automatiser* avgjor*",
	"automatiserat beslut*", "decision individuelle automatisee", "decisiones individuales automatizadas",
	"decisione basata unicamente", "geautomatiseerde besluit*", "zautomatyzowan*", "decisoes automatizadas",
}

// markerTable lists what makes a sentence ask for something: a request in
// so many words, or a verb in the imperative.
var markerTable = []string{
	// English
	"please", "pls", "kindly", "i request", "i hereby request", "i am requesting", "i m requesting", "i am writing to request",
	"i am writing to ask", "i would like", "i d like", "i want", "i wish", "i ask", "i am asking", "i hereby", "i demand",
	"i require", "i am exercising", "i exercise", "i m exercising", "i am making", "i make this", "this is a", "this letter is",
	"this email is", "this is my", "my request", "request that you", "ask that you", "ask you to", "asking you to",
	"i need you to", "you must", "you are required to", "can you", "could you", "would you", "will you", "i object",
	"i opt out", "i withdraw", "i appeal", "i instruct you", "i am invoking", "i invoke", "i m asking", "i d appreciate",
	"i would appreciate", "i look forward to receiving", "send me", "provide me", "give me", "tell me", "let me know",
	"forward me",
	// German
	"bitte", "hiermit", "ich beantrage", "beantrage ich", "ich fordere", "fordere ich", "ich verlange", "verlange ich",
	"ich mochte", "mochte ich", "ich wurde gerne", "wurde gerne", "konnen sie", "konnten sie", "wurden sie", "ich bitte", "bitte ich", "ersuche", "ich widerspreche", "widerspreche ich", "geltend",
	"ich will", "ich wunsche", "wunsche ich", "ich ersuche", "senden sie", "teilen sie", "stellen sie", "ubermitteln sie",
	"geben sie", "loschen sie", "berichtigen sie", "korrigieren sie", "andern sie", "schranken sie", "sperren sie",
	"entfernen sie", "unterlassen sie", "machen sie", "erteilen sie", "ich lege", "lege ich",
	// Finnish
	"pyydan", "pyydamme", "haluan", "haluaisin", "voisitteko", "voisitko", "voitteko", "kertoisitteko", "vaadin", "vaadimme", "toivon", "pyytaisin", "poistakaa", "lahettakaa",
	"toimittakaa", "korjatkaa", "oikaiskaa", "ilmoittakaa", "kertokaa", "rajoittakaa", "vastustan", "kaytan",
	"esitan", "lopettakaa", "antakaa",
	// Norwegian
	"jeg ber", "ber om", "ber dere", "jeg onsker", "onsker jeg", "jeg vil", "vennligst", "jeg krever", "krever jeg",
	"jeg protesterer", "send meg", "gi meg", "herved", "jeg klager", "kan dere", "kunne dere",
	// Swedish
	"jag begar", "begar jag", "jag vill", "jag ber", "vanligen", "jag kraver", "jag onskar", "skicka mig",
	"jag invander", "harmed", "jag ansoker", "ber er", "jag skulle vilja", "var god", "kan ni", "kunde ni", "skulle ni kunna",
	// Danish
	"jeg anmoder", "venligst", "jeg beder", "kan i",
	// French
	"je vous demande", "je vous prie", "je souhaite", "je sollicite", "je demande", "merci de", "veuillez", "je vous saurais",
	"j exerce", "je souhaiterais", "je voudrais", "je m oppose", "pourriez vous", "nous vous demandons", "par la presente",
	"je vous remercie de", "je requiers", "je conteste", "supprimez", "effacez", "communiquez", "rectifiez", "corrigez",
	// Spanish
	"solicito", "les solicito", "le solicito", "pido", "ruego", "les ruego", "quisiera", "deseo", "ejerzo", "por medio de la presente",
	"mediante el presente", "mediante la presente", "por la presente", "me opongo", "exijo", "necesito", "por favor", "recurro",
	"podrian", "podria", "pueden", "puede usted", "supriman", "borren", "eliminen", "facilitenme", "remitanme", "envienme", "rectifiquen", "corrijan",
	// Italian
	"chiedo", "richiedo", "vi chiedo", "vi prego", "desidero", "esercito", "con la presente", "intendo", "vorrei",
	"mi oppongo", "per favore", "prego", "domando", "cancellate", "correggete", "inviatemi", "fornitemi",
	// Dutch
	"verzoek", "ik verzoek", "verzoek ik", "ik wil", "wil ik", "alstublieft", "a u b", "graag", "ik vraag", "vraag ik", "maak ik gebruik", "wilt u",
	"gelieve", "ik eis", "hierbij", "maak ik bezwaar", "ik maak bezwaar", "verwijder", "stuur mij", "corrigeer",
	// Polish
	"prosze", "zadam", "wnosze", "wnioskuje", "zwracam sie", "niniejszym", "chce", "prosimy", "usuncie",
	// Portuguese
	"solicito", "venho solicitar", "requeiro", "peco", "gostaria", "por meio desta", "pelo presente", "desejo",
	"excluam", "apaguem", "me oponho", "venho", "requerer",
}

// contextTable lists what makes a right named after it context: the
// information an access letter asks about ("the existence of the right to
// request erasure"), what the law gives ("my right to"), an example. It
// reaches to the end of the sentence, unless a marker follows that asks
// anew; one marked "?" reaches the next few words only ("whether").
var contextTable = []string{
	"existence of", "information about", "information on", "informed about", "inform me about", "inform me of",
	"tell me about", "about my right", "about the right", "including", "such as", "?whether", "?regarding", "right to lodge",
	"?e g", "?i e", "how to", "i understand", "i have the right", "i also have the right", "have the right to", "i am entitled to",
	"i am aware", "my rights", "you must also inform", "ich habe das recht", "mir ist bewusst", "j ai le droit",
	"tengo derecho", "ho il diritto", "ik heb het recht", "minulla on oikeus", "jeg har rett", "jag har ratt", "how i can", "aware of my right", "aware that", "rights to", "rights of", "remind you",
	"bestehen*", "uber das recht", "uber mein recht", "uber meine rechte", "informationen uber", "einschliesslich",
	"?z b", "?ob", "auf das recht", "?hinsichtlich", "?bezuglich",
	"olemassaolo*", "tieto oikeud*", "tiedot oikeud*", "oikeuteni", "oikeudesta*", "?esimerkiksi", "mukaan lukien", "?onko",
	"informasjon om", "inkludert", "?blant annet", "om retten", "?hvorvidt", "retten til", "retten a",
	"information om", "inklusive", "forekomsten av", "?bland annat", "?huruvida", "om ratten", "ratten att", "ratten till",
	// An objection already made, being weighed: what follows asks anew.
	"vurderer protesten min", "behandler protesten min", "vurdert protesten min", "provar min invandning",
	"prova min invandning", "provat min invandning", "behandlar min invandning",
	"existence du droit", "l existence", "informations sur", "information sur", "y compris", "notamment", "?si vous",
	"existencia del derecho", "existencia de", "incluyendo", "informacion sobre", "?en particular", "?si ustedes",
	"esistenza del diritto", "esistenza di", "incluso", "inclusa", "informazioni su", "informazioni sul", "?in particolare", "?se i",
	"bestaan van", "informatie over", "inclusief", "waaronder", "?of u",
	"istnieniu prawa", "informacje o", "informacji o", "w tym", "?czy",
	"existencia do direito", "informacoes sobre", "incluindo", "inclusive", "?se os",
}

// fallbackTable lists what makes the rest of a sentence a fallback or a
// condition ("if you cannot erase, restrict"): what it names is not asked
// for besides the main request.
var fallbackTable = []string{
	"if you cannot", "if you can not", "if you are unable", "if you are not able", "if you re unable", "if that is not possible",
	"if this is not possible", "if it is not possible", "if ~4 not possible", "if ~4 impossible", "if ~6 legal obligation",
	"if ~6 required by law", "if ~6 obliged to", "if ~6 obligated to", "if ~6 need to keep", "if ~6 must keep",
	"if ~6 must retain", "if ~6 have to keep", "where ~4 not possible", "should you be unable", "should you not be able",
	"should ~4 not be possible", "should you refuse", "should you decline", "should you deny", "if you refuse",
	"if you decline", "if you deny", "in case ~4 not possible", "otherwise", "alternatively", "failing that",
	"failing which", "in the alternative", "as an alternative", "pending", "while you", "until you",
	"falls ~6 nicht", "sofern ~6 nicht", "soweit ~6 nicht", "wenn ~6 nicht", "sollte ~6 nicht", "sollten ~6 nicht",
	"sollte ~6 unmoglich", "falls ~6 unmoglich", "hilfsweise", "andernfalls", "anderenfalls", "ersatzweise", "alternativ",
	"bis zur", "solange",
	"jos ~6 ette", "jos ~6 ei", "mikali ~6 ette", "mikali ~6 ei", "ellei", "ellette", "muussa tapauksessa", "vaihtoehtoisesti",
	"toissijaisesti",
	"hvis ~6 ikke", "dersom ~6 ikke", "om dere ikke", "ellers", "alternativt", "subsidiaert",
	"om ni inte", "om ~4 inte ar mojlig", "om ~4 inte kan", "ifall ~6 inte", "annars", "i andra hand", "subsidiart",
	"si vous ne pouvez", "si ~6 n est pas possible", "si ~6 impossible", "si ~6 ne peut", "si ~6 obligation legale",
	"a defaut", "sinon", "a titre subsidiaire", "subsidiairement", "dans l attente",
	"si no ~6 posible", "si ~6 no pueden", "si ~6 no puede", "si ~6 imposible", "en caso de que ~6 no", "en su defecto",
	"de lo contrario", "subsidiariamente", "alternativamente",
	"se ~6 non e possibile", "se non ~4 possibile", "qualora ~6 non", "se ~6 impossibile", "in alternativa", "altrimenti",
	"in subordine", "subordinatamente",
	"indien ~6 niet", "als ~6 niet mogelijk", "mocht ~6 niet", "zo niet", "subsidiair", "als alternatief",
	"jezeli ~6 nie", "jesli ~6 nie", "gdyby ~6 nie", "w przeciwnym razie", "ewentualnie",
	"se ~6 nao for possivel", "caso ~6 nao", "caso contrario", "se ~6 impossivel",
}

// negationTable lists what says a right is not asked for: the rest of
// the sentence asks for nothing ("this is not a request to delete my
// account").
var negationTable = []string{
	"not a request", "not requesting", "not asking", "do not require you to", "don t require you to", "do not want you to",
	"don t want you to", "do not need you to", "don t need you to", "no need to", "without delet*", "rather than delet*",
	"instead of delet*", "not to delete", "do not delete", "don t delete", "not be deleted", "not an erasure",
	"keine loschung", "losch* ~3 nichts", "nichts ~3 losch*", "nicht zu loschen", "nicht geloscht", "nicht loschen", "kein loschantrag", "ne pas supprimer",
	"sans supprimer", "pas de suppression", "no borren", "no eliminen", "sin borrar", "non cancellate", "non cancellare",
	"niet verwijderen", "niet te verwijderen", "ei poisteta", "ala poistako", "alkaa poistako", "ei tarvitse poistaa",
	"ikke slett*", "ikke a slette", "inte radera*", "inte tas bort",
}

// orWords join alternatives, per language: a letter that asks for one
// right "or" another asks an operator to choose. Per language, because one
// language's "or" is another's "of".
var orWords = map[string]map[string]bool{
	langEN: set("or", "either"), langDE: set("oder", "entweder"), langFI: set("tai", "vai"), langNB: set("eller"),
	langSV: set("eller"), langDA: set("eller"), langFR: set("ou"), langES: set("o", "u"), langIT: set("o", "oppure"),
	langNL: set("of"), langPL: set("lub", "albo"), langPT: set("ou"),
}

// stopWords are frequent words that tell the languages apart, as written
// (with diacritics).
var stopWords = map[string]map[string]bool{
	langEN: set("the", "and", "to", "of", "my", "i", "me", "you", "your", "please", "is", "have", "that", "this", "for",
		"with", "all", "would", "like", "hold", "about", "dear", "regards", "thank", "thanks", "sincerely", "kind", "any",
		"which", "whether", "data", "information", "request", "under", "are", "it", "be", "we", "can", "from", "if", "or"),
	langDE: set("der", "die", "das", "und", "ich", "mich", "mir", "meine", "meiner", "meinen", "sie", "ihre", "ihnen",
		"bitte", "nicht", "mit", "von", "zu", "über", "sehr", "geehrte", "damen", "herren", "grüße", "grüsse", "freundlichen",
		"ist", "auf", "für", "gespeicherten", "vielen", "dank", "hallo", "daten", "hiermit", "gemäß", "oder", "sind", "eine",
		"einer", "werden", "den", "dem", "des", "auch", "wenn"),
	langFI: set("ja", "minun", "minua", "minulle", "minusta", "ei", "että", "te", "teidän", "kiitos", "tiedot",
		"tietoni", "tietojeni", "hyvä", "ystävällisin", "terveisin", "haluan", "pyydän", "kaikki", "olen", "tai",
		"mukaan", "hei", "moi", "kanssa", "teille", "henkilötietoni", "koskevat", "on", "ovat", "sekä", "jos", "tämä",
		"mitä", "minua", "koskevista", "tiedoista", "henkilötietoja"),
	langNB: set("jeg", "ikke", "meg", "dere", "deres", "og", "hilsen", "vennlig", "å", "opplysninger", "personopplysninger",
		"hvilke", "ønsker", "hvis", "også", "mine", "mitt", "min", "til", "av", "med", "på", "er", "det", "som", "har",
		"hei", "ber", "om", "fra", "vil", "kan", "en", "et", "eller", "dersom", "behandlingen", "slik", "innen"),
	langSV: set("jag", "inte", "mig", "ni", "er", "era", "och", "hälsningar", "vänliga", "att", "uppgifter",
		"personuppgifter", "vilka", "önskar", "också", "mina", "mitt", "min", "till", "av", "med", "på", "är", "det",
		"som", "har", "hej", "ber", "om", "från", "vill", "kan", "en", "ett", "eller", "behandlingen", "sådana", "inom"),
	langDA: set("jeg", "ikke", "mig", "jer", "jeres", "og", "hilsen", "venlig", "at", "oplysninger", "personoplysninger",
		"hvilke", "ønsker", "hvis", "også", "mine", "til", "af", "med", "på", "er", "det", "som", "har", "hej", "fra"),
	langFR: set("le", "la", "les", "de", "des", "du", "et", "je", "vous", "votre", "vos", "mes", "mon", "ma", "est",
		"pour", "que", "qui", "dans", "une", "un", "sur", "au", "aux", "avec", "madame", "monsieur", "cordialement",
		"données", "personnelles", "demande", "conformément", "veuillez", "salutations"),
	langES: set("el", "la", "los", "las", "de", "del", "y", "que", "en", "mis", "mi", "su", "sus", "por", "para", "con",
		"le", "les", "una", "un", "es", "estimados", "señores", "atentamente", "saludos", "datos", "personales",
		"solicito", "conformidad", "dispuesto"),
	langIT: set("il", "lo", "la", "i", "gli", "le", "di", "del", "della", "e", "che", "in", "mi", "miei", "mie",
		"vostro", "vostra", "per", "con", "una", "un", "è", "sono", "gentili", "distinti", "saluti", "cordiali",
		"dati", "personali", "richiesta", "ai", "sensi", "dell", "chiedo"),
	langNL: set("de", "het", "een", "en", "ik", "mij", "mijn", "u", "uw", "van", "voor", "met", "dat", "die", "is",
		"op", "te", "niet", "geachte", "heer", "mevrouw", "vriendelijke", "groet", "groeten", "gegevens",
		"persoonsgegevens", "verzoek", "graag", "hierbij"),
	langPL: set("i", "w", "z", "na", "do", "się", "nie", "że", "jest", "moich", "moje", "mnie", "mi", "pan", "pani",
		"państwa", "proszę", "dane", "danych", "szanowni", "szanowny", "pozdrawiam", "osobowych", "o", "oraz", "przez"),
	langPT: set("o", "a", "os", "as", "de", "do", "da", "dos", "das", "e", "que", "em", "meus", "minhas", "meu",
		"minha", "por", "para", "com", "um", "uma", "é", "prezados", "atenciosamente", "dados", "pessoais", "não",
		"venho", "solicitar", "nos", "termos"),
}

// wordOf names one language's words no other language shares, which
// settle a close count (Norwegian and Danish, Spanish and Portuguese).
var tellTale = map[string]map[string]bool{
	langNB: set("jeg", "meg", "dere", "deres", "ikke", "vennlig", "opplysninger", "personopplysninger"),
	langSV: set("jag", "mig", "inte", "vänliga", "hälsningar", "personuppgifter", "uppgifter", "och"),
	langDA: set("jer", "jeres", "venlig", "oplysninger", "personoplysninger"),
	langPT: set("não", "venho", "atenciosamente", "meus", "minha", "dados", "pessoais", "prezados"),
	langES: set("señores", "atentamente", "mis", "del", "solicito", "estimados"),
}
