package letters

import (
	"testing"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

// TestLetters reads every letter of the corpus as the inbound function
// does and checks it comes to what an operator reads in it. A failure names
// the letter's file and what differs, never its words.
func TestLetters(t *testing.T) {
	ls, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		t.Run(l.Name, func(t *testing.T) {
			got, err := Read(l)
			if err != nil {
				t.Fatalf("not readable: %v", err)
			}
			for _, d := range Differences(got, l.Want) {
				t.Error(d)
			}
		})
	}
}

// TestCorpusCoversLanguages: letters in every language the catalogue
// speaks, and in at least three it does not, which are answered in English.
func TestCorpusCoversLanguages(t *testing.T) {
	ls, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, l := range ls {
		count[l.Want.Language]++
	}
	for _, l := range i18n.Supported {
		if count[string(l)] < 3 {
			t.Errorf("%d letters in %s, want at least 3", count[string(l)], l)
		}
	}
	others := 0
	for lang := range count {
		if _, ok := i18n.Parse(lang); !ok {
			others++
		}
	}
	if others < 3 {
		t.Errorf("letters in %d languages without a catalogue, want at least 3", others)
	}
}
