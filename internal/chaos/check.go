package chaos

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/privacy-pipeline/dsr/internal/accesspkg"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/dynstore"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

// keyRef names an object in a problem without its key, which may hold an
// identity value: the bucket and a short hash of the key.
func keyRef(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return bucket + "/#" + hex.EncodeToString(sum[:4])
}

// checkResults checks what each completed request produced against the
// world's own count: the receipt of a deletion, the package of an access
// request, the flag of an opt-out; and that every damaged place was found.
func (r *runner) checkResults(ctx context.Context, rep *Report, outcomes []*outcome) {
	sources := r.sourcesOf()
	for _, o := range outcomes {
		if o.id == "" {
			continue
		}
		req, err := r.stack.App.Store().Get(ctx, o.id)
		if err != nil || req.Status != request.Completed {
			continue
		}
		switch o.p.req {
		case request.Delete:
			rep.ReceiptsChecked++
			r.checkReceipt(ctx, rep, o, sources)
			if o.p.damaged != "" && o.resolved == 0 {
				rep.FindingsMissed++
				rep.problem("%s: completed without the finding its damaged line calls for", o.id)
			}
		case request.Access:
			rep.PackagesChecked++
			r.checkPackage(ctx, rep, o, req, sources)
		case request.OptOut:
			flags, err := dynstore.NewSuppressions(r.ddb, r.stack.App.Config().SuppressionsTable).Get(ctx, suppression.SubjectKey(o.p.email))
			if _, ok := flags[suppression.OptOutSaleSharing]; err != nil || !ok {
				rep.SuppressionsMissing++
				rep.problem("%s: completed, but the suppression list has no opt-out for its subject (%v)", o.id, err)
			}
		}
	}
}

func (r *runner) checkReceipt(ctx context.Context, rep *Report, o *outcome, sources []string) {
	l, ok, err := r.stack.App.Receipts().ReceiptOf(ctx, o.id)
	if err != nil || !ok {
		rep.ReceiptMismatches++
		rep.problem("%s: completed without a receipt (%v)", o.id, err)
		return
	}
	rec, err := l.Open()
	if err != nil {
		rep.ReceiptMismatches++
		rep.problem("%s: receipt unreadable", o.id)
		return
	}
	for _, p := range receiptProblems(rec, r.world.expect[o.p], r.world.retainedUntil[o.p], sources) {
		rep.ReceiptMismatches++
		rep.problem("%s: %s", o.id, p)
	}
}

// receiptProblems compares a receipt with what the seeded data holds of its
// subject, source by source: deleted, anonymized and retained, the date the
// invoices are kept until, and an outcome for every source.
func receiptProblems(rec erasure.Receipt, expect map[string]*tally, until string, sources []string) []string {
	var problems []string
	got := map[string]bool{}
	for _, s := range rec.Sources {
		got[s.SourceID] = true
		want := expect[s.SourceID]
		if want == nil {
			want = &tally{}
		}
		if s.Deleted != want.deleted || s.Anonymized != want.anonymized || s.Retained != want.retained {
			problems = append(problems, fmt.Sprintf("receipt for %s says deleted %d, anonymized %d, retained %d; the seeded data holds %d, %d, %d",
				s.SourceID, s.Deleted, s.Anonymized, s.Retained, want.deleted, want.anonymized, want.retained))
			continue
		}
		if s.SourceID == "invoices" && want.retained > 0 && (s.Retention == nil || s.Retention.Until != until) {
			problems = append(problems, fmt.Sprintf("receipt keeps the invoices until %v, the seeded dates say %s", s.Retention, until))
		}
	}
	for _, id := range sources {
		if !got[id] {
			problems = append(problems, "receipt has no outcome for "+id)
		}
	}
	return problems
}

func (r *runner) checkPackage(ctx context.Context, rep *Report, o *outcome, req *request.Request, sources []string) {
	bucket := r.stack.App.Config().ExportsBucket
	body, _, err := r.object(ctx, bucket, req.Delivery.ExportKey)
	if err != nil {
		rep.PackageMismatches++
		rep.problem("%s: package unreadable (%v)", o.id, err)
		return
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		rep.PackageMismatches++
		rep.problem("%s: package is not a zip", o.id)
		return
	}
	var m accesspkg.Manifest
	f, err := zr.Open("manifest.json")
	if err == nil {
		err = json.NewDecoder(f).Decode(&m)
		f.Close()
	}
	if err != nil {
		rep.PackageMismatches++
		rep.problem("%s: package without a readable manifest", o.id)
		return
	}
	got := map[string]int{}
	for _, s := range m.Sources {
		got[s.ID] = s.Records
	}
	for _, id := range sources {
		want := 0
		if t := r.world.expect[o.p][id]; t != nil {
			want = t.records
		}
		if n, ok := got[id]; !ok || n != want {
			rep.PackageMismatches++
			rep.problem("%s: package holds %d records of %s; the seeded data holds %d", o.id, n, id, want)
		}
	}
}

// snapshot is every item, object and object version of the demo company,
// objects decompressed.
type snapshot struct {
	items    map[string]map[string]any // "table|key" → attributes
	objects  map[string][]byte         // "bucket/key"
	versions map[string][]byte         // "bucket/key@version"
	table    map[string]string         // item → its table
}

func (r *runner) snapshot(ctx context.Context) (*snapshot, error) {
	s := &snapshot{items: map[string]map[string]any{}, objects: map[string][]byte{}, versions: map[string][]byte{}, table: map[string]string{}}
	for _, table := range devstack.DemoTables {
		keys, err := r.keyNames(ctx, table)
		if err != nil {
			return nil, err
		}
		p := dynamodb.NewScanPaginator(r.ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, av := range page.Items {
				var m map[string]any
				if err := attributevalue.UnmarshalMap(av, &m); err != nil {
					return nil, err
				}
				k := itemRef(table, keys, m)
				s.items[k], s.table[k] = m, table
			}
		}
	}
	for _, bucket := range devstack.DemoBuckets {
		p := s3.NewListObjectsV2Paginator(r.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, obj := range page.Contents {
				b, err := r.content(ctx, bucket, aws.ToString(obj.Key), "")
				if err != nil {
					return nil, err
				}
				s.objects[bucket+"/"+aws.ToString(obj.Key)] = b
			}
		}
	}
	for _, bucket := range devstack.DemoVersionedBuckets {
		p := s3.NewListObjectVersionsPaginator(r.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, v := range page.Versions {
				b, err := r.content(ctx, bucket, aws.ToString(v.Key), aws.ToString(v.VersionId))
				if err != nil {
					return nil, err
				}
				s.versions[bucket+"/"+aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId)] = b
			}
		}
	}
	return s, nil
}

func (r *runner) keyNames(ctx context.Context, table string) ([]string, error) {
	out, err := r.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range out.Table.KeySchema {
		names = append(names, aws.ToString(k.AttributeName))
	}
	return names, nil
}

func itemRef(table string, keys []string, m map[string]any) string {
	k := map[string]any{}
	for _, name := range keys {
		k[name] = m[name]
	}
	b, _ := json.Marshal(k)
	return table + "|" + string(b)
}

// content reads an object (or one version), decompressed if it is gzip.
func (r *runner) content(ctx context.Context, bucket, key, version string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out, err := r.s3.GetObject(ctx, in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// fates says of each subject what may have become of their data: erased
// (a completed deletion: nothing of theirs may be left), perhaps erased (a
// deletion not completed: some may be gone), corrected, perhaps corrected.
type fates struct {
	erased, maybeErased, corrected, maybeCorrected map[*person]bool
}

func (r *runner) fatesOf(ctx context.Context, outcomes []*outcome) fates {
	return fatesOf(outcomes, func(id string) bool {
		req, err := r.stack.App.Store().Get(ctx, id)
		return err == nil && req.Status == request.Completed
	})
}

func fatesOf(outcomes []*outcome, completedOK func(id string) bool) fates {
	f := fates{erased: map[*person]bool{}, maybeErased: map[*person]bool{}, corrected: map[*person]bool{}, maybeCorrected: map[*person]bool{}}
	for _, o := range outcomes {
		if o.id == "" || (o.p.req != request.Delete && o.p.req != request.Correct) {
			continue // a request never accepted may not change anything
		}
		completed := completedOK(o.id)
		switch {
		case o.p.req == request.Delete && completed:
			f.erased[o.p] = true
		case o.p.req == request.Delete:
			f.maybeErased[o.p] = true
		case completed:
			f.corrected[o.p] = true
		default:
			f.maybeCorrected[o.p] = true
		}
	}
	return f
}

// compare checks every item, object and version after the run against the
// one before: what belongs to a completed deletion's subject is gone (or
// anonymized, where the registry says so), a completed correction changed
// exactly its fields, and everything else holds the same bytes.
func (r *runner) compare(rep *Report, before, after *snapshot, f fates) {
	owners := map[string]*person{}
	for _, it := range r.world.items {
		owners[itemRef(it.table, it.key, normalized(it.attrs))] = it.owner
	}
	anonymized := func(m map[string]any) map[string]any {
		out := maps.Clone(m)
		for _, field := range devstack.DemoAnonymizedFields {
			delete(out, field)
		}
		return out
	}
	corrected := func(m map[string]any, p *person) map[string]any {
		out := maps.Clone(m)
		for k, v := range p.corrections {
			out[k] = v
		}
		return out
	}
	for k, b := range before.items {
		a, present := after.items[k]
		o := owners[k]
		table := before.table[k]
		same := present && equalJSON(a, b)
		switch {
		case o != nil && (f.erased[o] || f.maybeErased[o]) && table == devstack.DemoAnonymizedTable:
			if present && equalJSON(a, anonymized(b)) || (f.maybeErased[o] && same) {
				continue
			}
			if present && a["email"] != nil {
				rep.ErasedDataLeft++
				rep.problem("%s: a review of %s kept what identifies its author", table, o)
			} else {
				rep.OtherDataChanged++
				rep.problem("%s: a review of %s is gone or changed beyond its anonymized fields", table, o)
			}
		case o != nil && f.erased[o]:
			if present {
				rep.ErasedDataLeft++
				rep.problem("%s: an item of %s is still there", table, o)
			}
		case o != nil && f.maybeErased[o]:
			if present && !same {
				rep.OtherDataChanged++
				rep.problem("%s: an item of %s changed", table, o)
			}
		case o != nil && table == "demo-users" && (f.corrected[o] || f.maybeCorrected[o]):
			if !(present && equalJSON(a, corrected(b, o))) && !(f.maybeCorrected[o] && same) {
				rep.OtherDataChanged++
				rep.problem("%s: the account of %s is not as its correction says", table, o)
			}
		case !same:
			rep.OtherDataChanged++
			rep.problem("%s: an item of %s changed or went", table, describe(o))
		}
	}
	for k := range after.items {
		if _, ok := before.items[k]; !ok {
			rep.OtherDataChanged++
			rep.problem("%s: an item appeared", after.table[k])
		}
	}

	erased := func(p *person) bool { return p != nil && f.erased[p] }
	maybe := func(p *person) bool { return p != nil && f.maybeErased[p] }
	for _, key := range slices.Sorted(maps.Keys(before.objects)) {
		a, present := after.objects[key]
		r.walk(rep, key, before.objects[key], a, present, erased, maybe)
	}
	for key := range after.objects {
		if _, ok := before.objects[key]; !ok {
			rep.OtherDataChanged++
			rep.problem("%s: an object appeared", bucketRef(key))
		}
	}
	for _, v := range slices.Sorted(maps.Keys(before.versions)) {
		b := before.versions[v]
		a, present := after.versions[v]
		owners := r.linesOwners(b)
		switch {
		case slices.ContainsFunc(owners, erased):
			if present {
				rep.ErasedDataLeft++
				rep.problem("%s: an older version holding an erased subject is still there", bucketRef(v))
			}
		case slices.ContainsFunc(owners, maybe):
		case !present || !bytes.Equal(a, b):
			rep.OtherDataChanged++
			rep.problem("%s: a version holding nobody erased changed or went", bucketRef(v))
		}
	}
	for v, a := range after.versions {
		if _, ok := before.versions[v]; !ok && slices.ContainsFunc(r.linesOwners(a), erased) {
			rep.ErasedDataLeft++
			rep.problem("%s: a version written during the run holds an erased subject", bucketRef(v))
		}
	}
}

// normalized is an item's attributes as a snapshot reads them back.
func normalized(attrs map[string]any) map[string]any {
	av, _ := attributevalue.MarshalMap(attrs)
	var m map[string]any
	_ = attributevalue.UnmarshalMap(av, &m)
	return m
}

func equalJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func describe(p *person) string {
	if p == nil {
		return "the demo company"
	}
	return p.String()
}

// bucketRef names "bucket/key[@version]" by its bucket and a hash.
func bucketRef(ref string) string {
	bucket, key, _ := strings.Cut(ref, "/")
	return keyRef(bucket, key)
}

// lines splits content after each newline; a last line without one is a
// line too, the nothing after a final newline is not.
func lines(b []byte) []string {
	ls := strings.SplitAfter(string(b), "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

func (r *runner) linesOwners(b []byte) []*person {
	var out []*person
	for _, l := range lines(b) {
		if p := r.world.owners[l]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// walk compares one object's lines (records; a whole JSON file is one)
// before and after: every line is kept as it was, in its order, unless it
// is an erased subject's (then it must be gone) or perhaps erased; nothing
// new appears (a changed record counts twice: gone, and new). A header goes
// only with its object.
func (r *runner) walk(rep *Report, ref string, before, after []byte, present bool, erased, maybe func(*person) bool) {
	if r.world.retained[ref] {
		// What the law keeps stays, whoever it belongs to.
		erased = func(*person) bool { return false }
		maybe = erased
	}
	bl := lines(before)
	var al []string
	if present {
		al = lines(after)
	}
	rest := map[string]int{} // the lines before not yet walked past
	for _, l := range bl {
		rest[l]++
	}
	appeared := func(j int) {
		rep.OtherDataChanged++
		rep.problem("%s: line %d after the run was not there before", bucketRef(ref), j+1)
	}
	j := 0
	for i, l := range bl {
		for j < len(al) && rest[al[j]] == 0 {
			appeared(j)
			j++
		}
		rest[l]--
		o := r.world.owners[l]
		if j < len(al) && al[j] == l {
			j++
			if erased(o) {
				rep.ErasedDataLeft++
				rep.problem("%s line %d: a record of %s is still there", bucketRef(ref), i+1, o)
			}
			continue
		}
		switch {
		case erased(o) || maybe(o):
		case o == nil && !present && i == 0:
			// A CSV header goes with an object left without records.
		default:
			rep.OtherDataChanged++
			rep.problem("%s line %d: a record of %s changed or went", bucketRef(ref), i+1, describe(o))
		}
	}
	for ; j < len(al); j++ {
		appeared(j)
	}
}

// checkPersonal looks for every seeded personal value in the stack's logs
// and in the data of every execution of the run's requests.
func (r *runner) checkPersonal(ctx context.Context, rep *Report, logs string, outcomes []*outcome) {
	values := r.world.personal()
	if !strings.Contains(logs, "task done") {
		rep.PersonalInLogs++
		rep.problem("no handler log was captured: the log check would prove nothing")
	}
	if v, ok := hasAny(logs, values); ok {
		rep.PersonalInLogs++
		rep.problem("the logs hold a seeded personal value (%d characters)", len(v))
	}
	for _, o := range outcomes {
		if o.id == "" {
			continue
		}
		names := []string{o.id}
		if req, err := r.stack.App.Store().Get(ctx, o.id); err == nil {
			for n := 1; n <= req.Redrives; n++ {
				names = append(names, fmt.Sprintf("%s-r%d", o.id, n))
			}
		}
		for _, sm := range []resources.StateMachine{resources.RequestWorkflow, resources.DeadlineWatch} {
			smARN := devstack.StateMachineARN(r.stack.Region, sm)
			for _, name := range names {
				if sm == resources.DeadlineWatch && name != o.id {
					continue
				}
				data, err := r.executionData(ctx, sfnflow.ExecutionARN(smARN, name))
				if err != nil {
					continue // a watch that never started: its request says so
				}
				if _, ok := hasAny(data, values); ok {
					rep.PersonalInLogs++
					rep.problem("%s: the execution data of %s holds a seeded personal value", name, sm.ID)
				}
			}
		}
	}
}

func (r *runner) executionData(ctx context.Context, arn string) (string, error) {
	exec, err := r.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(aws.ToString(exec.Input))
	b.WriteString(aws.ToString(exec.Output))
	p := sfn.NewGetExecutionHistoryPaginator(r.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		events, _ := json.Marshal(page.Events)
		b.Write(events)
	}
	return b.String(), nil
}
