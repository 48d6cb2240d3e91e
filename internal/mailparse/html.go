package mailparse

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText reads the text a person sees in an HTML mail: entities decoded,
// scripts, styles and the head left out, block elements on their own lines,
// runs of spaces collapsed. Links keep their text, not their addresses. A
// list item starts with "- " and a line inside a blockquote with "> ", as a
// plain-text mail writes them, so that a quoted earlier message reads as one.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0  // depth inside elements whose text is not shown
	quote := 0 // depth inside blockquotes
	item := false
	space := false
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		space = false
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyLines(b.String())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if hidden[a] && tt == html.StartTagToken {
				skip++
			}
			if blocks[a] {
				newline()
			}
			switch {
			case a == atom.Blockquote && tt == html.StartTagToken:
				quote++
			case a == atom.Li:
				item = true
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if hidden[a] && skip > 0 {
				skip--
			}
			if blocks[a] {
				newline()
			}
			if a == atom.Blockquote && quote > 0 {
				quote--
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if t != "" && isSpace(t[0]) {
				space = true
			}
			for _, f := range strings.Fields(t) {
				atStart := b.Len() == 0 || strings.HasSuffix(b.String(), "\n")
				if atStart {
					b.WriteString(strings.Repeat("> ", quote))
					if item {
						b.WriteString("- ")
					}
					item = false
				} else if space {
					b.WriteByte(' ')
				}
				b.WriteString(f)
				space = true
			}
			space = t != "" && isSpace(t[len(t)-1])
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var hidden = map[atom.Atom]bool{atom.Head: true, atom.Script: true, atom.Style: true, atom.Title: true, atom.Template: true}

var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Tr: true, atom.Table: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Pre: true, atom.Hr: true, atom.Ul: true, atom.Ol: true, atom.Section: true,
	atom.Article: true, atom.Header: true, atom.Footer: true, atom.Body: true,
}
