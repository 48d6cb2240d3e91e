// Package registry loads the data-source registry: the checked-in file in
// which a company describes where personal data lives, how a subject is found
// in each place, how identities chain from one source to the next, and what
// erasure means there. Every mistake is reported at load time with its line.
package registry

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// StartIdentity is the identity every request arrives with.
const StartIdentity = "email"

// Registry is a validated set of sources.
type Registry struct {
	Identities []string  `yaml:"identities"`
	Sources    []*Source `yaml:"sources"`
	// Notify lists the recipients told of erasures, corrections,
	// restrictions and opt-outs (see webhook.go).
	Notify []*Notified `yaml:"notify"`
}

// Source is one place where personal data lives. Exactly one of DynamoDB,
// S3, Manual and Webhook is given; a webhook source's Manual is set, once
// loaded, to its task settings, since its tasks are manual ones.
type Source struct {
	ID          string          `yaml:"id"`
	Description string          `yaml:"description"`
	DynamoDB    *DynamoDBSource `yaml:"dynamodb"`
	S3          *S3Source       `yaml:"s3"`
	Manual      *ManualSource   `yaml:"manual"`
	Webhook     *WebhookSource  `yaml:"webhook"`
	// Provides maps identity kinds to the attribute (DynamoDB) or field (S3)
	// of the subject's records that holds them: how identities chain.
	Provides map[string]string `yaml:"provides"`
	// Erasure is what a delete request does here: "delete" the subject's
	// records, "anonymize" the fields listed under Anonymize, or "retain"
	// them for the legal reason and period given under Retain.
	Erasure   string      `yaml:"erasure"`
	Anonymize []string    `yaml:"anonymize"`
	Retain    *RetainRule `yaml:"retain"`

	// What the subject is told about the source (see disclosure.go).
	Categories []string    `yaml:"categories"`
	Purposes   []string    `yaml:"purposes"`
	Recipients []Recipient `yaml:"recipients"`
	Retention  *Retention  `yaml:"retention"`

	// Account marks the one source that holds customer accounts: the details
	// a requester gives to verify a request are matched against its record
	// (see account.go).
	Account bool `yaml:"account"`
	// Correctable lists the attributes of the account source (the subject's
	// profile) that a correction request may change (see correct.go).
	Correctable []string `yaml:"correctable"`
	// DataPoints maps data point kinds (DataPointKinds) to the attributes of
	// the account record that hold them.
	DataPoints map[string]string `yaml:"data_points"`
	// Export lists the attributes (DynamoDB) or fields (S3) of the
	// subject's records that go into the access package; empty exports
	// every one. Finding, chaining and erasure still see whole records.
	Export []string `yaml:"export"`
}

// RetainRule says why and how long a source's records must be kept although
// the subject asked for erasure: the legal obligation, its citation, and
// either a period (counted from a date field of each record, or from the
// erasure) or a fixed date.
type RetainRule struct {
	Reason   string `yaml:"reason"`
	Citation string `yaml:"citation"`
	// Period is an ISO 8601 duration in years, months and days (P10Y, P6M, P1Y6M, P30D).
	Period string `yaml:"period"`
	// After names the field of each record that holds the date the period
	// runs from (RFC 3339 or YYYY-MM-DD); empty counts from the erasure.
	After string `yaml:"after"`
	// From is "" to count the period from that date itself, or
	// FromEndOfYear to count it from the end of that date's calendar year
	// (German AO §147(4) and HGB §257(5) count so).
	From string `yaml:"from"`
	// Until is a fixed last day (YYYY-MM-DD), instead of a period.
	Until string `yaml:"until"`
}

// DynamoDBSource says how the subject's items are found in a table: by a
// Query on a partition key of the table or of one of its global secondary
// indexes (every item under the subject's value), or by GetItem on the
// table's full primary key (the one item whose partition key is the
// subject's value and whose sort key, if the table has one, is fixed).
type DynamoDBSource struct {
	Table string `yaml:"table"`
	// Lookup is LookupQuery (the default) or LookupGetItem.
	Lookup       string `yaml:"lookup"`
	Index        string `yaml:"index"`
	PartitionKey string `yaml:"partition_key"`
	// PartitionValue is how the partition key holds the identity: fixed
	// text around one {identity} placeholder, as single-table designs
	// write keys (USER#{user_id}); empty holds the identity value alone.
	PartitionValue string `yaml:"partition_value"`
	// SortKey narrows the lookup by the sort key: a Query to the items whose
	// sort key equals Value or begins with BeginsWith; a GetItem to the item
	// whose sort key is Value.
	SortKey  *SortKey `yaml:"sort_key"`
	Identity string   `yaml:"identity"`
}

// SortKey is a condition on a sort key attribute, a fixed value or prefix
// from the registry (never from a request).
type SortKey struct {
	Attribute  string `yaml:"attribute"`
	Value      string `yaml:"value"`
	BeginsWith string `yaml:"begins_with"`
}

// DynamoDB lookups.
const (
	LookupQuery   = "query"
	LookupGetItem = "get_item"
)

// GetItem reports whether the source reads one item by its full key.
func (d *DynamoDBSource) GetItem() bool { return d.Lookup == LookupGetItem }

// KeyValue is the partition key value that holds an identity value: the
// value itself, or PartitionValue around it. The fixed text on both sides
// makes different values give different keys.
func (d *DynamoDBSource) KeyValue(identity string) string {
	if d.PartitionValue == "" {
		return identity
	}
	return strings.Replace(d.PartitionValue, "{"+d.Identity+"}", identity, 1)
}

// Templated reports whether the partition key holds fixed text besides
// the identity.
func (d *DynamoDBSource) Templated() bool { return d.PartitionValue != "" }

// S3Source scans the objects under a prefix for rows that belong to the
// subject (Match), or, with a KeyTemplate, takes every object under the
// subject's own folder as the subject's.
type S3Source struct {
	Bucket string `yaml:"bucket"`
	Prefix string `yaml:"prefix"`
	// KeyTemplate, such as "users/{user_id}/", follows Prefix and names the
	// subject's folder (see keytemplate.go).
	KeyTemplate string `yaml:"key_template"`
	Format      string `yaml:"format"`
	// Compression of every object under the prefix: "" (none) or "gzip".
	Compression string  `yaml:"compression"`
	Match       []Match `yaml:"match"`
	// Size is how much lies under the prefix, for planning only
	// (privacyctl estimate); nothing the pipeline does depends on it.
	Size *Size `yaml:"size"`

	template KeyTemplate // KeyTemplate parsed at load
}

// Templated reports whether the source owns whole objects under a key template.
func (s *S3Source) Templated() bool { return s.KeyTemplate != "" }

// Splittable reports whether the source can be worked object by object: an
// S3 source with a fixed prefix (a key template's folders are the subject's
// already).
func (s *Source) Splittable() bool { return s.S3 != nil && !s.S3.Templated() }

// ListPrefix is the part of every key of the source known without the
// subject: the prefix and the template's text before its first placeholder.
func (s *S3Source) ListPrefix() string { return s.Prefix + s.template.Static() }

// maxSubjectPrefixes bounds the folders one subject may have in one source.
const maxSubjectPrefixes = 1000

// SubjectPrefixes returns the prefixes under which the subject's objects (a
// templated source) or the objects to scan (otherwise) are: for a template,
// one per combination of the subject's values of its identities, none if the
// subject lacks one. A value that cannot be part of a key fails with
// ErrKeyValue.
func (s *S3Source) SubjectPrefixes(ids map[string][]string) ([]string, error) {
	if !s.Templated() {
		return []string{s.Prefix}, nil
	}
	combos := []map[string]string{{}}
	for _, kind := range s.template.Identities() {
		var next []map[string]string
		for _, c := range combos {
			for _, v := range slices.Compact(slices.Sorted(slices.Values(ids[kind]))) {
				m := map[string]string{kind: v}
				for k, x := range c {
					m[k] = x
				}
				next = append(next, m)
			}
		}
		if len(next) > maxSubjectPrefixes {
			return nil, errors.New("the subject has more folders in a source than the limit")
		}
		combos = next
	}
	var prefixes []string
	for _, c := range combos {
		key, err := s.template.Resolve(c)
		if err != nil {
			return nil, err
		}
		prefixes = append(prefixes, s.Prefix+key)
	}
	return prefixes, nil
}

// Match says that a row belongs to the subject when Field holds one of the
// subject's values of Identity, as Type and Normalize say how to compare.
type Match struct {
	Field    string `yaml:"field"`
	Identity string `yaml:"identity"`
	// Type is which JSON values match: TypeAny (the default: a string that
	// spells the value, or a number equal to it, since one system writes
	// the id 1001 as "1001" and another as 1001), TypeString or TypeNumber.
	// CSV holds text only: a number there is text that reads as one.
	Type string `yaml:"type"`
	// Normalize is how a string is compared: NormalizeExact, NormalizeCase
	// (letter case ignored) or NormalizeEmail (letter case and surrounding
	// spaces ignored). The default is NormalizeEmail for the email identity,
	// whose addresses people and systems write in any case, and
	// NormalizeExact for every other identity.
	Normalize string `yaml:"normalize"`
}

// Types of match values.
const (
	TypeAny    = "any"
	TypeString = "string"
	TypeNumber = "number"
)

// Normalizations of match values.
const (
	NormalizeExact = "exact"
	NormalizeCase  = "case_insensitive"
	NormalizeEmail = "email"
)

// FoldsCase reports whether the rule ignores letter case.
func (m Match) FoldsCase() bool {
	n := m.normalization()
	return n == NormalizeCase || n == NormalizeEmail
}

// TrimsSpace reports whether the rule ignores spaces around a value.
func (m Match) TrimsSpace() bool { return m.normalization() == NormalizeEmail }

func (m Match) normalization() string {
	switch {
	case m.Normalize != "":
		return m.Normalize
	case m.Identity == StartIdentity:
		return NormalizeEmail
	}
	return NormalizeExact
}

// Strings reports whether a JSON string may match.
func (m Match) Strings() bool { return m.Type != TypeNumber }

// Numbers reports whether a JSON number may match.
func (m Match) Numbers() bool { return m.Type != TypeString }

// Erasure modes.
const (
	EraseDelete    = "delete"
	EraseAnonymize = "anonymize"
	EraseRetain    = "retain"
)

// ErasureModes lists the supported erasure modes.
var ErasureModes = []string{EraseDelete, EraseAnonymize, EraseRetain}

// Formats of S3 sources.
const (
	FormatJSONL = "jsonl" // one JSON object per line
	FormatCSV   = "csv"   // RFC 4180, the first record names the fields
	FormatJSON  = "json"  // one JSON array of objects, or one JSON object, per file
	// FormatParquet is Apache Parquet: columns, compressed inside the file,
	// read by ranges (the footer, then row group by row group).
	FormatParquet = "parquet"
)

// Formats lists the supported formats of S3 sources.
var Formats = []string{FormatJSONL, FormatCSV, FormatJSON, FormatParquet}

// Compressions of S3 objects.
const (
	CompressionNone = ""
	CompressionGzip = "gzip"
)

// Kind names the technology of a source.
func (s *Source) Kind() string {
	switch {
	case s.DynamoDB != nil:
		return "dynamodb"
	case s.Webhook != nil:
		return KindWebhook
	case s.Manual != nil:
		return KindManual
	}
	return "s3"
}

// Source returns the source with the given id, or nil.
func (r *Registry) Source(id string) *Source {
	for _, s := range r.Sources {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// IDs returns the source ids in file order.
func (r *Registry) IDs() []string {
	ids := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		ids[i] = s.ID
	}
	return ids
}

// LoadFile reads and validates a registry file.
func LoadFile(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Parse decodes and validates a registry. Unknown keys, missing fields and
// references to undeclared identities are errors that name the line.
func Parse(b []byte) (*Registry, error) {
	var r Registry
	if err := yaml.UnmarshalWithOptions(b, &r, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, errors.New(yaml.FormatError(err, false, true))
	}
	file, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, err
	}
	v := validator{file: file}
	v.check(&r)
	if len(v.problems) > 0 {
		return nil, errors.New(strings.Join(v.problems, "\n"))
	}
	for _, s := range r.Sources {
		if s.Webhook != nil {
			s.Manual = &s.Webhook.ManualSource // its tasks are manual ones
		}
	}
	return &r, nil
}

var (
	sourceIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	identityPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

type validator struct {
	file       *ast.File
	identities []string // the registry's
	problems   []string
}

// fail records a problem at the YAML path, with its line when the path exists.
func (v *validator) fail(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if line := v.line(path); line > 0 {
		v.problems = append(v.problems, fmt.Sprintf("line %d: %s: %s", line, path, msg))
		return
	}
	v.problems = append(v.problems, fmt.Sprintf("%s: %s", path, msg))
}

func (v *validator) line(path string) int {
	for p := path; p != "$"; {
		yp, err := yaml.PathString(p)
		if err == nil {
			if n, err := yp.FilterFile(v.file); err == nil && n != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (v *validator) check(r *Registry) {
	v.identities = r.Identities
	if !slices.Contains(r.Identities, StartIdentity) {
		v.fail("$.identities", "must list %q, the identity every request starts from", StartIdentity)
	}
	for i, id := range r.Identities {
		if !identityPattern.MatchString(id) {
			v.fail(fmt.Sprintf("$.identities[%d]", i), "identity %q must be lower case letters, digits and _", id)
		}
	}
	if len(r.Sources) == 0 {
		v.fail("$.sources", "list at least one source")
	}
	seen := map[string]bool{}
	for i, s := range r.Sources {
		at := fmt.Sprintf("$.sources[%d]", i)
		if s == nil {
			v.fail(at, "empty source")
			continue
		}
		v.checkID(at, s.ID, seen)
		v.identity(r, at+".provides", s.Provides)
		kinds := 0
		for _, set := range []bool{s.DynamoDB != nil, s.S3 != nil, s.Manual != nil, s.Webhook != nil} {
			if set {
				kinds++
			}
		}
		switch {
		case kinds > 1:
			v.fail(at, "give one of dynamodb, s3, manual and webhook, not several")
		case s.Webhook != nil:
			v.checkWebhook(at, s)
			v.checkDisclosure(at, s)
			continue
		case s.Manual != nil:
			v.checkManual(at, s)
			v.checkDisclosure(at, s)
			continue
		case s.DynamoDB != nil:
			v.checkDynamoDB(r, at+".dynamodb", s.DynamoDB)
			v.checkProvidedKey(at, s)
		case s.S3 != nil:
			v.checkS3(r, at+".s3", s.S3)
		default:
			v.fail(at, "give a dynamodb, an s3, a manual or a webhook block")
		}
		v.checkDisclosure(at, s)
		v.checkErasure(at, s)
		v.checkExport(at, s)
	}
	v.checkAccount(r)
	v.checkCorrectable(r)
	v.checkReachable(r)
	v.checkNotified(r)
}

func (v *validator) identity(r *Registry, at string, provides map[string]string) {
	for kind, field := range provides {
		if !slices.Contains(r.Identities, kind) {
			v.fail(at+"."+kind, "identity %q is not listed under identities", kind)
		}
		if field == "" {
			v.fail(at+"."+kind, "name the attribute that holds %q", kind)
		}
	}
}

// checkProvidedKey refuses an identity read from a partition key written
// with fixed text around it: the text would come back as part of the
// identity (USER#USER#u-1 on the next lookup).
func (v *validator) checkProvidedKey(at string, s *Source) {
	if !s.DynamoDB.Templated() {
		return
	}
	for _, kind := range sortedKeys(s.Provides) {
		if s.Provides[kind] == s.DynamoDB.PartitionKey {
			v.fail(at+".provides."+kind, "the partition key holds %s, fixed text and all: provide %q from an attribute that holds the value alone", s.DynamoDB.PartitionValue, kind)
		}
	}
}

func (v *validator) checkDynamoDB(r *Registry, at string, d *DynamoDBSource) {
	if d.Table == "" {
		v.fail(at+".table", "name the table")
	}
	if d.PartitionKey == "" {
		v.fail(at+".partition_key", "name the partition key attribute to query")
	}
	if !slices.Contains(r.Identities, d.Identity) {
		v.fail(at+".identity", "identity %q is not listed under identities", d.Identity)
	}
	if d.PartitionValue != "" {
		placeholder := "{" + d.Identity + "}"
		switch {
		case strings.Count(d.PartitionValue, placeholder) != 1 || strings.Count(d.PartitionValue, "{") != 1 || strings.Count(d.PartitionValue, "}") != 1:
			v.fail(at+".partition_value", "partition_value %q must hold the placeholder %s once, and no other braces", d.PartitionValue, placeholder)
		case d.PartitionValue == placeholder:
			v.fail(at+".partition_value", "partition_value %q is the identity alone; leave it out", d.PartitionValue)
		case len(d.PartitionValue) > 256:
			v.fail(at+".partition_value", "partition_value is longer than 256 bytes")
		}

	}
	switch d.Lookup {
	case "", LookupQuery:
	case LookupGetItem:
		if d.Index != "" {
			v.fail(at+".index", "get_item reads the table by its primary key; an index needs lookup: query")
		}
	default:
		v.fail(at+".lookup", "lookup %q is not supported; use %s or %s", d.Lookup, LookupQuery, LookupGetItem)
	}
	if k := d.SortKey; k != nil {
		switch {
		case k.Attribute == "":
			v.fail(at+".sort_key.attribute", "name the sort key attribute")
		case k.Attribute == d.PartitionKey:
			v.fail(at+".sort_key.attribute", "the sort key cannot be the partition key %q", d.PartitionKey)
		}
		switch {
		case (k.Value == "") == (k.BeginsWith == ""):
			v.fail(at+".sort_key", "give either value or begins_with")
		case d.GetItem() && k.BeginsWith != "":
			v.fail(at+".sort_key.begins_with", "get_item needs the sort key's whole value; begins_with needs lookup: query")
		}
	}
}

func (v *validator) checkS3(r *Registry, at string, s *S3Source) {
	if s.Bucket == "" {
		v.fail(at+".bucket", "name the bucket")
	}
	if strings.Contains(s.Prefix, "..") || strings.HasPrefix(s.Prefix, "/") {
		v.fail(at+".prefix", "prefix %q must not start with / or contain ..", s.Prefix)
	}
	if !slices.Contains(Formats, s.Format) {
		v.fail(at+".format", "format %q is not supported; use one of %s", s.Format, strings.Join(Formats, ", "))
	}
	if s.Size != nil {
		if _, err := ParseBytes(s.Size.Bytes); err != nil {
			v.fail(at+".size.bytes", "%v", err)
		}
		if s.Size.Objects < 1 {
			v.fail(at+".size.objects", "give the number of objects under the prefix (at least 1)")
		}
	}
	switch {
	case s.Compression != CompressionNone && s.Format == FormatParquet:
		// Parquet compresses its pages itself; a whole file compressed again
		// cannot be read by ranges.
		v.fail(at+".compression", "a parquet file compresses its own pages; leave out compression")
	case s.Compression != CompressionNone && s.Compression != CompressionGzip:
		v.fail(at+".compression", "compression %q is not supported; use %q or leave it out", s.Compression, CompressionGzip)
	}
	switch {
	case s.KeyTemplate != "" && len(s.Match) > 0:
		v.fail(at+".match", "a source with a key_template owns whole objects under the subject's folder; leave out match")
	case s.KeyTemplate != "":
		t, err := ParseKeyTemplate(s.KeyTemplate)
		if err != nil {
			v.fail(at+".key_template", "key_template %q %v", s.KeyTemplate, err)
			break
		}
		s.template = t
		for _, id := range t.Identities() {
			if !slices.Contains(r.Identities, id) {
				v.fail(at+".key_template", "placeholder {%s} is not an identity listed under identities", id)
			}
		}
		if s.Prefix != "" && !strings.HasSuffix(s.Prefix, "/") {
			v.fail(at+".prefix", "prefix %q must end with / when a key_template follows it", s.Prefix)
		}
	case len(s.Match) == 0:
		v.fail(at+".match", "list the fields that identify the subject's rows, or give a key_template")
	}
	for j, m := range s.Match {
		if m.Field == "" {
			v.fail(fmt.Sprintf("%s.match[%d].field", at, j), "name the field")
		}
		if !slices.Contains(r.Identities, m.Identity) {
			v.fail(fmt.Sprintf("%s.match[%d].identity", at, j), "identity %q is not listed under identities", m.Identity)
		}
		switch m.Type {
		case "", TypeAny, TypeString, TypeNumber:
		default:
			v.fail(fmt.Sprintf("%s.match[%d].type", at, j), "type %q is not supported; use %s, %s or %s", m.Type, TypeAny, TypeString, TypeNumber)
		}
		switch m.Normalize {
		case "", NormalizeExact, NormalizeCase, NormalizeEmail:
		default:
			v.fail(fmt.Sprintf("%s.match[%d].normalize", at, j), "normalize %q is not supported; use %s, %s or %s", m.Normalize, NormalizeExact, NormalizeCase, NormalizeEmail)
		}
	}
}

// checkReachable makes sure every source can be reached from the email a
// request starts with, through the identities other sources provide.
func (v *validator) checkReachable(r *Registry) {
	known := map[string]bool{StartIdentity: true}
	for changed := true; changed; {
		changed = false
		for _, s := range r.Sources {
			if s == nil || !s.reachable(known) {
				continue
			}
			for kind := range s.Provides {
				if !known[kind] {
					known[kind] = true
					changed = true
				}
			}
		}
	}
	for i, s := range r.Sources {
		if s != nil && (s.DynamoDB != nil || s.S3 != nil || s.Manual != nil || s.Webhook != nil) && !s.reachable(known) {
			v.fail(fmt.Sprintf("$.sources[%d]", i), "source %q cannot be reached: no source provides the identity it is keyed by", s.ID)
		}
	}
}

// LookupIdentities are the identity kinds by which the source finds a subject.
func (s *Source) LookupIdentities() []string {
	if s.Webhook != nil {
		return s.Webhook.Identities
	}
	if s.Manual != nil {
		return s.Manual.Identities
	}
	if s.DynamoDB != nil {
		return []string{s.DynamoDB.Identity}
	}
	var kinds []string
	if s.S3 != nil && s.S3.Templated() {
		return s.S3.template.Identities()
	}
	if s.S3 != nil {
		for _, m := range s.S3.Match {
			if !slices.Contains(kinds, m.Identity) {
				kinds = append(kinds, m.Identity)
			}
		}
	}
	return kinds
}

func (s *Source) reachable(known map[string]bool) bool {
	for _, k := range s.LookupIdentities() {
		if known[k] {
			return true
		}
	}
	return false
}

// checkID validates the id of the entry at at: its form, and that no entry
// before it (those in seen, which it joins) has it.
func (v *validator) checkID(at, id string, seen map[string]bool) {
	switch {
	case !sourceIDPattern.MatchString(id):
		v.fail(at+".id", "id %q must be lower case letters, digits and -, starting with a letter", id)
	case seen[id]:
		v.fail(at+".id", "id %q is used twice", id)
	}
	seen[id] = true
}
