package chaos

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// person is someone the demo company holds data about: a subject who makes
// one request, or a bystander whose data lies beside the subjects'.
type person struct {
	n      int
	email  string
	userID string // "" for someone without an account
	custNo int
	name   string
	phone  string
	postal string
	// req is the request the subject makes; "" for a bystander.
	req request.Type
	// corrections are what a correction request changes on the account.
	corrections map[string]string
	// damaged is the object holding a line of this subject's cut off as it
	// was written (a finding), with its line number; "" for none.
	damaged     string
	damagedLine int
}

func (p *person) String() string { return fmt.Sprintf("person %d", p.n) }

// tally is what the seeded data holds of one subject in one source, counted
// as it was written: records, and what erasure must do with them by the
// source's mode.
type tally struct{ records, deleted, anonymized, retained int }

// line is a record (or, for CSV, the header) of a seeded object, with its
// owner: nil for the header and other structure.
type line struct {
	text  string
	owner *person
}

// object is one object the world writes; versions of a key in a versioned
// bucket are written in their order.
type object struct {
	bucket, key string
	lines       []line
	gzip        bool
	contentType string
	// whole marks a file that is one record of its owner (a JSON file
	// under the owner's folder), or an array of several.
	whole bool
}

func (o object) body() []byte {
	var b strings.Builder
	for _, l := range o.lines {
		b.WriteString(l.text)
	}
	if !o.gzip {
		return []byte(b.String())
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write([]byte(b.String()))
	_ = w.Close()
	return z.Bytes()
}

// item is one seeded DynamoDB item.
type item struct {
	table string
	attrs map[string]any
	owner *person
	key   []string // the names of its key attributes
}

// world is the people and the data the run seeds, and what each subject's
// request must find, built from the seed alone before anything runs: the
// independent count the receipts and packages are checked against.
type world struct {
	people   []*person
	subjects []*person
	items    []item
	objects  []object
	// expect is, per subject and source id, what the seeded data holds.
	expect map[*person]map[string]*tally
	// retainedUntil is the last day the subject's invoices are kept.
	retainedUntil map[*person]string
	// owners finds the owner of a record by its exact text.
	owners map[string]*person
	// retained are the objects ("bucket/key") of a source whose records
	// erasure keeps.
	retained map[string]bool
}

var (
	firstNames = []string{"Ada", "Bram", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kaja", "Luca", "Mira", "Noor", "Otto", "Priya"}
	lastNames  = []string{"Quill", "Rasmussen", "Santos", "Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz", "Zanetti", "Okafor", "Lindqvist", "Moreau", "Haddad", "Novak", "Ferreira"}
)

// requestMix is the share of each type among the subjects: two in five
// delete, one in five each access, correct and opt out.
var requestMix = []request.Type{request.Delete, request.Access, request.Delete, request.OptOut, request.Correct}

// Where the seeded data goes: the demo company's stores, under keys of
// their own beside the demo's.
const (
	eventObjects  = 6
	damagedObject = "events/2026-12-07.jsonl"
)

// newWorld makes n subjects and about half as many bystanders, and their
// data, from seed.
func newWorld(seed uint64, n int, modes map[string]string) *world {
	rng := rand.New(rand.NewPCG(seed, 0x776f726c64))
	w := &world{expect: map[*person]map[string]*tally{}, retainedUntil: map[*person]string{}, owners: map[string]*person{}, retained: map[string]bool{}}
	bystanders := max(4, n/2)
	types := make([]request.Type, n)
	for i := range types {
		types[i] = requestMix[i%len(requestMix)]
	}
	rng.Shuffle(len(types), func(i, j int) { types[i], types[j] = types[j], types[i] })
	for i := range n + bystanders {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		p := &person{
			n:      i + 1,
			email:  strings.ToLower(fmt.Sprintf("%s.%s.%04d@example.net", first, last, i+1)),
			userID: fmt.Sprintf("uc-%04d", i+1),
			custNo: 500000 + i + 1,
			name:   first + " " + last,
			phone:  fmt.Sprintf("+44 20 7946 %04d", i+1),
			postal: fmt.Sprintf("PC%04d", i+1),
		}
		if i < n {
			p.req = types[i]
			w.subjects = append(w.subjects, p)
			w.expect[p] = map[string]*tally{}
			// One in ten subjects has no account (a newsletter reader, a
			// reviewer): only what is found by the email address is theirs.
			if p.req != request.Correct && rng.IntN(10) == 0 {
				p.userID = ""
			}
			if p.req == request.Correct {
				p.corrections = map[string]string{"name": first + " " + last + "-Neu", "phone": fmt.Sprintf("+49 30 9018 %04d", i+1)}
			}
		}
		w.people = append(w.people, p)
	}
	// The first delete subjects (one in 25, at least one) have a line cut
	// off in the analytics events: erasure stops for an operator there.
	messy := max(1, (n+24)/25)
	for _, p := range w.subjects {
		if messy > 0 && p.req == request.Delete && p.userID != "" {
			p.damaged = damagedObject
			messy--
		}
	}
	w.seedItems(rng, modes)
	w.seedObjects(rng, modes)
	return w
}

func (w *world) count(p *person, source, mode string, records int) {
	if p == nil || p.req == "" || records == 0 {
		return
	}
	t := w.expect[p][source]
	if t == nil {
		t = &tally{}
		w.expect[p][source] = t
	}
	t.records += records
	switch mode {
	case "delete":
		t.deleted += records
	case "anonymize":
		t.anonymized += records
	case "retain":
		t.retained += records
	}
}

func (w *world) addItem(table string, key []string, attrs map[string]any, p *person, source string, modes map[string]string) {
	w.items = append(w.items, item{table: table, attrs: attrs, owner: p, key: key})
	w.count(p, source, modes[source], 1)
}

func (w *world) seedItems(rng *rand.Rand, modes map[string]string) {
	themes := []string{"dark", "light"}
	products := []string{"notebook", "pen", "mug", "backpack", "lamp", "stapler"}
	for _, p := range w.people {
		if p.userID != "" {
			w.addItem("demo-users", []string{"user_id"}, map[string]any{
				"user_id": p.userID, "email": p.email, "name": p.name, "plan": []string{"free", "pro", "team"}[rng.IntN(3)],
				"phone": p.phone, "postal_code": p.postal, "customer_no": p.custNo,
			}, p, "users", modes)
			if rng.IntN(10) < 7 {
				w.addItem("demo-app", []string{"pk", "sk"}, map[string]any{
					"pk": "USER#" + p.userID, "sk": "PREFERENCES", "language": "en", "marketing_emails": rng.IntN(2) == 0,
					"theme": themes[rng.IntN(2)], "schema_version": 3,
				}, p, "preferences", modes)
			}
			for k := range rng.IntN(4) {
				w.addItem("demo-app", []string{"pk", "sk"}, map[string]any{
					"pk": "USER#" + p.userID, "sk": fmt.Sprintf("SESSION#2026-12-%02dT%02d:%02d:00Z", 1+k, 8+rng.IntN(12), rng.IntN(60)),
					"device": []string{"Firefox on Linux", "Safari on iOS", "Chrome on Android"}[rng.IntN(3)], "country": "GB",
				}, p, "sessions", modes)
			}
			for k := range rng.IntN(4) {
				w.addItem("demo-orders", []string{"user_id", "order_id"}, map[string]any{
					"user_id": p.userID, "order_id": fmt.Sprintf("oc-%04d-%d", p.n, k+1),
					"total": fmt.Sprintf("%d.%02d", 1+rng.IntN(90), rng.IntN(100)), "item": products[rng.IntN(len(products))],
				}, p, "orders", modes)
			}
		}
		for k := range rng.IntN(3) {
			w.addItem("demo-reviews", []string{"review_id"}, map[string]any{
				"review_id": fmt.Sprintf("rc-%04d-%d", p.n, k+1), "email": p.email, "author_name": p.name,
				"product": products[rng.IntN(len(products))], "rating": 1 + rng.IntN(5), "text": "Does what it says.",
			}, p, "reviews", modes)
		}
	}
}

// spread puts each record into one of the objects at random, then shuffles
// every object's records, so that each object holds several people's
// records in no order.
func spread(rng *rand.Rand, objs []object, recs []line) {
	for _, r := range recs {
		i := rng.IntN(len(objs))
		objs[i].lines = append(objs[i].lines, r)
	}
	for i := range objs {
		body := objs[i].lines
		start := 0
		if len(body) > 0 && body[0].owner == nil {
			start = 1 // a CSV header stays first
		}
		rng.Shuffle(len(body)-start, func(a, b int) { body[start+a], body[start+b] = body[start+b], body[start+a] })
	}
}

func (w *world) add(objs ...object) {
	for _, o := range objs {
		for _, l := range o.lines {
			if l.owner != nil {
				w.owners[l.text] = l.owner
			}
		}
		w.objects = append(w.objects, o)
	}
}

// tallyObjects counts each subject's records in objects of a source.
func (w *world) tallyObjects(source string, modes map[string]string, objs []object) {
	for _, o := range objs {
		for _, l := range o.lines {
			w.count(l.owner, source, modes[source], 1)
		}
	}
}

func jsonl(format string, args ...any) string { return fmt.Sprintf(format, args...) + "\n" }

func (w *world) seedObjects(rng *rand.Rand, modes map[string]string) {
	var account []*person
	for _, p := range w.people {
		if p.userID != "" {
			account = append(account, p)
		}
	}
	// Analytics events: one to four lines each, over several days' files.
	events := make([]object, eventObjects)
	var recs []line
	for d := range events {
		events[d] = object{bucket: "demo-events", key: fmt.Sprintf("events/2026-12-%02d.jsonl", d+1)}
	}
	for _, p := range account {
		for range 1 + rng.IntN(4) {
			d := 1 + rng.IntN(eventObjects)
			recs = append(recs, line{jsonl(`{"ts":"2026-12-%02dT%02d:%02d:%02dZ","user_id":%q,"event":"page_view","page":"/products/%d"}`,
				d, 8+rng.IntN(12), rng.IntN(60), rng.IntN(60), p.userID, 1+rng.IntN(40)), p})
		}
	}
	spread(rng, events, recs)
	w.tallyObjects("events", modes, events)
	w.add(events...)

	// A file in which the messy subjects' visits were cut off, among
	// bystanders' whole lines: theirs is neither counted nor erased.
	damaged := object{bucket: "demo-events", key: damagedObject}
	for _, p := range w.people {
		if p.req == "" && len(damaged.lines) < 6 {
			damaged.lines = append(damaged.lines, line{jsonl(`{"ts":"2026-12-07T09:%02d:00Z","user_id":%q,"event":"page_view","page":"/"}`, len(damaged.lines), p.userID), p})
		}
	}
	for _, p := range w.subjects {
		if p.damaged != "" {
			at := rng.IntN(len(damaged.lines) + 1)
			cut := line{`{"ts":"2026-12-07T11:00:00Z","user_id":"` + p.userID + `","event":"page_vi` + "\n", p}
			damaged.lines = slices.Insert(damaged.lines, at, cut)
		}
	}
	for i, l := range damaged.lines {
		if l.owner != nil && l.owner.damaged != "" && strings.HasSuffix(l.text, "page_vi\n") {
			l.owner.damagedLine = i + 1
		}
	}
	w.add(damaged)

	// Click stream, hourly files.
	clicks := []object{{bucket: "demo-events", key: "clickstream/2026-12-01T10.jsonl"}, {bucket: "demo-events", key: "clickstream/2026-12-01T11.jsonl"}}
	recs = nil
	for _, p := range account {
		for range rng.IntN(3) {
			recs = append(recs, line{jsonl(`{"ts":"2026-12-01T10:%02d:%02dZ","user_id":%q,"target":"#%s"}`, rng.IntN(60), rng.IntN(60), p.userID,
				[]string{"buy", "search", "cart"}[rng.IntN(3)]), p})
		}
	}
	spread(rng, clicks, recs)
	w.tallyObjects("clickstream", modes, clicks)
	w.add(clicks...)

	// Support tickets by email, some typed with capitals and spaces.
	tickets := []object{{bucket: "demo-events", key: "support/chaos-1.jsonl"}, {bucket: "demo-events", key: "support/chaos-2.jsonl"}}
	recs = nil
	for _, p := range w.people {
		for k := range rng.IntN(3) {
			addr := p.email
			if rng.IntN(4) == 0 {
				addr = " " + strings.ToUpper(addr[:1]) + addr[1:]
			}
			recs = append(recs, line{jsonl(`{"ticket_id":"tc-%04d-%d","email":%q,"subject":"Question %d"}`, p.n, k+1, addr, rng.IntN(100)), p})
		}
	}
	spread(rng, tickets, recs)
	w.tallyObjects("support", modes, tickets)
	w.add(tickets...)

	// Loyalty points by customer number, as a number or as text.
	loyalty := []object{{bucket: "demo-events", key: "loyalty/chaos.jsonl"}}
	recs = nil
	for _, p := range account {
		for range rng.IntN(4) {
			no := fmt.Sprint(p.custNo)
			if rng.IntN(2) == 0 {
				no = `"` + no + `"`
			}
			recs = append(recs, line{jsonl(`{"customer_no":%s,"points":%d}`, no, rng.IntN(200)-50), p})
		}
	}
	spread(rng, loyalty, recs)
	w.tallyObjects("loyalty", modes, loyalty)
	w.add(loyalty...)

	// Newsletter subscribers: gzip-compressed CSV with quoted fields.
	news := []object{{bucket: "demo-events", key: "newsletter/chaos.csv.gz", gzip: true, contentType: "text/csv",
		lines: []line{{text: "email,name,topics\r\n"}}}}
	recs = nil
	for _, p := range w.people {
		if rng.IntN(2) == 0 {
			recs = append(recs, line{fmt.Sprintf("%s,%s,\"news, \"\"%s\"\" digest\"\r\n", p.email, p.name, []string{"weekly", "monthly"}[rng.IntN(2)]), p})
		}
	}
	spread(rng, news, recs)
	w.tallyObjects("newsletter", modes, news)
	w.add(news...)

	// Archived visits: gzip-compressed JSON Lines.
	archive := []object{{bucket: "demo-events", key: "archive/chaos.jsonl.gz", gzip: true, contentType: "application/x-ndjson"}}
	recs = nil
	for _, p := range account {
		for range rng.IntN(3) {
			recs = append(recs, line{jsonl(`{"user_id":%q,"page":"/p/%d","at":"2026-10-%02dT09:00:00Z"}`, p.userID, rng.IntN(50), 1+rng.IntN(28)), p})
		}
	}
	spread(rng, archive, recs)
	w.tallyObjects("web-archive", modes, archive)
	w.add(archive...)

	// Invoices, which the law keeps: counted as retained.
	invoices := []object{{bucket: "demo-billing", key: "invoices/chaos-2025.csv", contentType: "text/csv",
		lines: []line{{text: "invoice_id,user_id,issued_on,amount,currency\n"}}}}
	recs = nil
	for _, p := range account {
		var last time.Time
		for k := range rng.IntN(3) {
			issued := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
			if issued.After(last) {
				last = issued
			}
			recs = append(recs, line{fmt.Sprintf("inv-c%04d-%d,%s,%s,%d.00,EUR\n", p.n, k+1, p.userID, issued.Format(time.DateOnly), 5+rng.IntN(80)), p})
		}
		if !last.IsZero() && p.req != "" {
			w.retainedUntil[p] = last.AddDate(6, 0, 0).Format(time.DateOnly)
		}
	}
	spread(rng, invoices, recs)
	w.tallyObjects("invoices", modes, invoices)
	for _, o := range invoices {
		w.retained[o.bucket+"/"+o.key] = modes["invoices"] == "retain"
	}
	w.add(invoices...)

	// Personalisation profiles: whole JSON files in each customer's folder.
	for _, p := range account {
		if rng.IntN(10) >= 4 {
			continue
		}
		profile := object{bucket: "demo-events", key: "profiles/users/" + p.userID + "/profile.json", whole: true, contentType: "application/json",
			lines: []line{{fmt.Sprintf(`{"user_id":%q,"display_name":%q,"theme":"dark"}`, p.userID, p.name), p}}}
		w.count(p, "profiles", modes["profiles"], 1)
		w.add(profile)
		if rng.IntN(2) == 0 {
			segments := object{bucket: "demo-events", key: "profiles/users/" + p.userID + "/segments.json", whole: true, contentType: "application/json",
				lines: []line{{fmt.Sprintf(`[{"segment":"s%d","score":0.5},{"segment":"t%d","score":0.25}]`, p.n, p.n), p}}}
			w.count(p, "profiles", modes["profiles"], 2)
			w.add(segments)
		}
	}

	// Profile history in the versioned bucket: some customers' own files,
	// an old and a current version each, and a shared export written twice.
	// Only the current versions' records count; erasure deletes the older
	// versions that hold the subject besides.
	var old, current []line
	for _, p := range account {
		if rng.IntN(10) >= 3 {
			continue
		}
		o := line{jsonl(`{"user_id":%q,"email":%q,"address":"%d Old Street"}`, p.userID, p.email, p.n), p}
		c := line{jsonl(`{"user_id":%q,"email":%q,"address":"%d New Road"}`, p.userID, p.email, p.n), p}
		key := "profiles/" + p.userID + ".jsonl"
		w.add(object{bucket: "demo-archive", key: key, lines: []line{o}}, object{bucket: "demo-archive", key: key, lines: []line{c}})
		if rng.IntN(2) == 0 {
			old = append(old, o)
		}
		current = append(current, c)
		w.count(p, "profile-history", modes["profile-history"], 2) // its own file and the export
	}
	w.add(object{bucket: "demo-archive", key: "profiles/chaos-export.jsonl", lines: old},
		object{bucket: "demo-archive", key: "profiles/chaos-export.jsonl", lines: current})
}

// seed writes the world into the demo company's tables and buckets. It runs
// before any request, outside the pipeline's functions (nothing fails).
func (w *world) seed(ctx context.Context, ddb *dynamodb.Client, s3c *s3.Client) error {
	for _, it := range w.items {
		av, err := attributevalue.MarshalMap(it.attrs)
		if err != nil {
			return err
		}
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(it.table), Item: av}); err != nil {
			return fmt.Errorf("seeding %s: %w", it.table, err)
		}
	}
	for _, o := range w.objects {
		in := &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key), Body: bytes.NewReader(o.body())}
		if o.contentType != "" {
			in.ContentType = aws.String(o.contentType)
		}
		if o.gzip {
			in.ContentEncoding = aws.String("gzip")
		}
		if _, err := s3c.PutObject(ctx, in); err != nil {
			return fmt.Errorf("seeding %s/%s: %w", o.bucket, o.key, err)
		}
	}
	return nil
}

// personal are the values that identify people in the seeded data: none
// may appear in logs, execution data or the printed output.
func (w *world) personal() []string {
	var out []string
	for _, p := range w.people {
		out = append(out, p.email, p.name, p.phone)
		if p.userID != "" {
			out = append(out, p.userID)
		}
	}
	return out
}
