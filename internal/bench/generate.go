// Package bench measures the S3 scanners on generated data, without S3: scan
// and rewrite throughput per format and the peak memory of scanning an object
// far larger than memory should need. `make bench` runs it through cmd/bench.
package bench

import (
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

// The subject the benchmarks look for. Other rows belong to u-0000001 and up.
const (
	SubjectUserID = "u-0000000"
	SubjectEmail  = "user0000000@example.com"
)

// Source is the registry entry the generated data fits: rows match on user_id
// or email.
func Source(format, compression string) *registry.S3Source {
	return &registry.S3Source{Bucket: "bench", Format: format, Compression: compression, Match: []registry.Match{
		{Field: "user_id", Identity: "user_id"},
		{Field: "email", Identity: "email"},
	}}
}

// Identities are the subject's identities, as a request would carry them.
func Identities() map[string][]string {
	return map[string][]string{"user_id": {SubjectUserID}, "email": {SubjectEmail}}
}

// Generator writes rows of website events (about 300 bytes each) for many
// subjects, one in MatchEvery of them the subject's. It is deterministic for a
// seed.
type Generator struct {
	format     string
	rng        *rand.Rand
	matchEvery int
	subjects   int
	rows       int
	matched    int
}

// NewGenerator returns a generator of format rows ("jsonl", "csv" or "json";
// "parquet" rows are made by writeParquet).
func NewGenerator(format string, seed uint64, matchEvery, subjects int) *Generator {
	return &Generator{format: format, rng: rand.New(rand.NewPCG(seed, 1)), matchEvery: matchEvery, subjects: subjects}
}

// Rows and Matched count the rows generated and those of the subject.
func (g *Generator) Rows() int    { return g.rows }
func (g *Generator) Matched() int { return g.matched }

var (
	events = []string{"page_view", "add_to_cart", "checkout", "login", "logout", "search"}
	agents = []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	}
)

// header is what an object starts with; footer what it ends with.
func (g *Generator) header() string {
	switch g.format {
	case registry.FormatCSV:
		return "ts,user_id,email,event,path,user_agent,session,amount\r\n"
	case registry.FormatJSON:
		return "["
	}
	return ""
}

func (g *Generator) footer() string {
	if g.format == registry.FormatJSON {
		return "\n]\n"
	}
	return ""
}

// row appends one row to dst; first says whether it is the first of its
// object (JSON arrays separate the others with a comma).
func (g *Generator) row(dst []byte, first bool) []byte {
	g.rows++
	n := 1 + g.rng.IntN(g.subjects)
	if g.rng.IntN(g.matchEvery) == 0 {
		n = 0
		g.matched++
	}
	id := strconv.AppendInt(nil, int64(n), 10)
	pad := func(dst []byte) []byte {
		for range 7 - len(id) {
			dst = append(dst, '0')
		}
		return append(dst, id...)
	}
	ts := strconv.AppendInt(nil, 1767225600+int64(g.rows), 10)
	event := events[g.rng.IntN(len(events))]
	agent := agents[g.rng.IntN(len(agents))]
	product := strconv.AppendInt(nil, int64(g.rng.IntN(100000)), 10)
	session := strconv.AppendUint(nil, g.rng.Uint64(), 16)
	amount := strconv.AppendFloat(nil, float64(g.rng.IntN(100000))/100, 'f', 2, 64)
	switch g.format {
	case registry.FormatCSV:
		dst = append(dst, ts...)
		dst = append(dst, ",u-"...)
		dst = pad(dst)
		dst = append(dst, ",user"...)
		dst = pad(dst)
		dst = append(dst, "@example.com,"...)
		dst = append(dst, event...)
		dst = append(dst, ",/products/"...)
		dst = append(dst, product...)
		dst = append(dst, "?ref=mail,\""...) // quoted: the agents hold commas
		dst = append(dst, agent...)
		dst = append(dst, "\","...)
		dst = append(dst, session...)
		dst = append(dst, ',')
		dst = append(dst, amount...)
		return append(dst, "\r\n"...)
	default:
		if g.format == registry.FormatJSON {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, "\n  "...)
		}
		dst = append(dst, `{"ts":`...)
		dst = append(dst, ts...)
		dst = append(dst, `,"user_id":"u-`...)
		dst = pad(dst)
		dst = append(dst, `","email":"user`...)
		dst = pad(dst)
		dst = append(dst, `@example.com","event":"`...)
		dst = append(dst, event...)
		dst = append(dst, `","path":"/products/`...)
		dst = append(dst, product...)
		dst = append(dst, `?ref=mail","user_agent":"`...)
		dst = append(dst, agent...)
		dst = append(dst, `","session":"`...)
		dst = append(dst, session...)
		dst = append(dst, `","amount":`...)
		dst = append(dst, amount...)
		dst = append(dst, '}')
		if g.format == registry.FormatJSONL {
			dst = append(dst, '\n')
		}
		return dst
	}
}

// Object returns one object of about size bytes: header, rows, footer.
func (g *Generator) Object(size int) []byte {
	b := make([]byte, 0, size+1024)
	b = append(b, g.header()...)
	for first := true; len(b) < size; first = false {
		b = g.row(b, first)
	}
	return append(b, g.footer()...)
}

// Stream returns an object of at least size bytes as a reader that generates
// rows as they are read, so that the object is never in memory.
func (g *Generator) Stream(size int64) io.Reader {
	return &stream{g: g, left: size, buf: []byte(g.header()), first: true}
}

type stream struct {
	g     *Generator
	left  int64 // bytes of rows still to generate
	buf   []byte
	off   int
	first bool
	done  bool
}

func (s *stream) Read(p []byte) (int, error) {
	for s.off == len(s.buf) {
		if s.done {
			return 0, io.EOF
		}
		s.buf, s.off = s.buf[:0], 0
		for len(s.buf) < 64<<10 && s.left > 0 {
			n := len(s.buf)
			s.buf = s.g.row(s.buf, s.first)
			s.first = false
			s.left -= int64(len(s.buf) - n)
		}
		if s.left <= 0 {
			s.buf = append(s.buf, s.g.footer()...)
			s.done = true
		}
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}
