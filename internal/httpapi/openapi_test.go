package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

// specChecker validates requests and responses against openapi.json.
type specChecker struct {
	v     validator.Validator
	model *v3.Document
	opts  *config.ValidationOptions
}

var (
	specOnce sync.Once
	spec     *specChecker
	specErr  error
)

func loadSpec(t testing.TB) *specChecker {
	t.Helper()
	specOnce.Do(func() {
		doc, err := libopenapi.NewDocument(openAPIDocument)
		if err != nil {
			specErr = err
			return
		}
		m, err := doc.BuildV3Model()
		if err != nil {
			specErr = err
			return
		}
		opts := []config.Option{
			config.WithURLEncodedBodyValidation(), // the web form's bodies
			config.WithFormatAssertions(),         // email, date, date-time, uri
		}
		v, errs := validator.NewValidator(doc, opts...)
		if len(errs) > 0 {
			specErr = errors.Join(errs...)
			return
		}
		spec = &specChecker{v: v, model: &m.Model, opts: config.NewValidationOptions(opts...)}
	})
	if specErr != nil {
		t.Fatalf("openapi.json does not load: %v", specErr)
	}
	return spec
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s %s", s.FieldPath, s.Reason)
		}
	}
	return b.String()
}

// checkRequest reports whether the document allows r (its body is read from
// a copy, so r can still be served).
func (s *specChecker) checkRequest(r *http.Request, body []byte) (bool, string) {
	c := r.Clone(context.Background())
	c.Body = io.NopCloser(bytes.NewReader(body))
	ok, errs := s.v.ValidateHttpRequestSync(c)
	return ok, describe(errs)
}

// checkResponse reports whether the document allows res as an answer to r.
func (s *specChecker) checkResponse(r *http.Request, res *http.Response, body []byte) (bool, string) {
	c := *res
	c.Body = io.NopCloser(bytes.NewReader(body))
	ok, errs := s.v.ValidateHttpResponse(r, &c)
	return ok, describe(errs)
}

// pathOf is the document's path template that r matches.
func (s *specChecker) pathOf(r *http.Request) string {
	_, _, p := paths.FindPath(r, s.model, s.opts)
	return p
}

// specJSON is the document as plain JSON, for reading enumerations and the
// list of documented answers without going through a model.
func specJSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(openAPIDocument, &m); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return m
}

// at walks a JSON document by keys; a "$ref" met on the way is followed.
func at(t *testing.T, root map[string]any, keys ...string) any {
	t.Helper()
	var cur any = root
	for _, k := range keys {
		cur = deref(t, root, cur)
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("openapi.json: no object at %q", k)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("openapi.json: no %q in %v", k, keys)
		}
	}
	return deref(t, root, cur)
}

func deref(t *testing.T, root map[string]any, v any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	ref, ok := m["$ref"].(string)
	if !ok {
		return v
	}
	parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	return at(t, root, parts...)
}

func stringsOf(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	var out []string
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("not a string: %v", x)
		}
		out = append(out, s)
	}
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	s := loadSpec(t)
	if ok, errs := s.v.ValidateDocument(); !ok {
		t.Fatalf("openapi.json is not a valid OpenAPI document:%s", describe(errs))
	}
	if v := at(t, specJSON(t), "openapi"); v != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", v)
	}
}

// requestConsts lists the values of the constants of the named type declared
// in package request, read from its source: a type or status added there
// must be added to the document too.
func requestConsts(t *testing.T, typeName string) []string {
	t.Helper()
	const dir = "../request"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
						continue
					}
					for _, v := range vs.Values {
						lit, ok := v.(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							t.Fatalf("request: a %s constant is not a string literal", typeName)
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						out = append(out, v)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("request: no constants of type %s found", typeName)
	}
	return out
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if len(slices.Compact(slices.Clone(g))) != len(g) {
		t.Errorf("%s: the document lists a value twice: %v", what, got)
	}
	if !slices.Equal(slices.Compact(g), slices.Compact(w)) {
		var missing, extra []string
		for _, x := range w {
			if !slices.Contains(g, x) {
				missing = append(missing, x)
			}
		}
		for _, x := range g {
			if !slices.Contains(w, x) {
				extra = append(extra, x)
			}
		}
		t.Errorf("%s: the document lacks %v and has %v that the code does not", what, missing, extra)
	}
}

// TestOpenAPIEnums checks the document's enumerations against the domain.
func TestOpenAPIEnums(t *testing.T) {
	doc := specJSON(t)
	enum := func(schema string) []string {
		return stringsOf(t, at(t, doc, "components", "schemas", schema, "enum"))
	}

	sameSet(t, "Jurisdiction", enum("Jurisdiction"), request.Jurisdictions)
	sameSet(t, "Status", enum("Status"), requestConsts(t, "Status"))
	allTypes := requestConsts(t, "Type")
	sameSet(t, "RequestType", enum("RequestType"), allTypes)

	// The submittable types are those the domain accepts in a submission.
	var accepted []string
	for _, typ := range allTypes {
		in := request.Submission{Type: typ, Email: "ada@example.com", Jurisdiction: "EU"}
		switch typ { // the type's own required member
		case string(request.Correct):
			in.Corrections = &request.Corrections{"name": "Ada King"}
		case string(request.Appeal):
			in.AppealOf = "dsr-20260131-0123456789abcdef"
		}
		if _, err := in.Validate(); err == nil {
			accepted = append(accepted, typ)
		}
	}
	sameSet(t, "SubmittableType", enum("SubmittableType"), accepted)

	if got := at(t, doc, "components", "schemas", "Email", "maxLength"); got != float64(request.MaxEmailLength) {
		t.Errorf("Email maxLength = %v, want %d", got, request.MaxEmailLength)
	}
	// Every id the domain makes matches the documented pattern (the contract
	// test checks that malformed ids are refused).
	id := request.NewID(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	if ok, why := loadSpec(t).checkRequest(httptest.NewRequest("GET", "/v1/requests/"+id+"?token=t", nil), nil); !ok {
		t.Errorf("a new id %s does not match the document:%s", id, why)
	}
}

// jsonFields lists the JSON names of a struct's fields, and which of them are
// always present (no omitempty).
func jsonFields(typ reflect.Type) (all, always []string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	return all, always
}

// TestOpenAPISchemasMatchTypes checks each documented object against the Go
// type that is encoded for it: the same properties, and every property that
// is always written is required. Submissions are checked against the members
// the decoder reads and the fields the domain requires.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := specJSON(t)
	properties := func(schema string) []string {
		props, ok := at(t, doc, "components", "schemas", schema, "properties").(map[string]any)
		if !ok {
			t.Fatalf("%s has no properties", schema)
		}
		return slices.Collect(maps.Keys(props))
	}
	required := func(schema string) []string {
		return stringsOf(t, at(t, doc, "components", "schemas", schema, "required"))
	}
	for _, tc := range []struct {
		schema string
		typ    any
	}{
		{"Receipt", portal.Receipt{}},
		{"RequestStatus", portal.Status{}},
		{"Problem", problem{}},
		{"FieldError", apperr.FieldError{}},
	} {
		all, always := jsonFields(reflect.TypeOf(tc.typ))
		sameSet(t, tc.schema+" properties", properties(tc.schema), all)
		sameSet(t, tc.schema+" required", required(tc.schema), always)
	}

	// Submission.Validate names every field a submission needs.
	_, err := request.Submission{}.Validate()
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("an empty submission is accepted")
	}
	var need []string
	for _, f := range e.Fields {
		need = append(need, f.Field)
	}
	members := slices.Collect(maps.Keys(submitMembers))
	sameSet(t, "Submission properties", properties("Submission"), append(slices.Concat(members, slices.Collect(maps.Keys(boolMembers))), correctionsMember))
	sameSet(t, "SubmissionForm properties", properties("SubmissionForm"), members) // corrections.<name> fields
	for _, schema := range []string{"Submission", "SubmissionForm"} {
		sameSet(t, schema+" required", required(schema), need)
	}
}

// specPortal is the fake portal with the portal's own rules in front: a
// submission is validated by the domain, and malformed ids or empty tokens are not
// found, as portal.Portal does. So answers to invalid input come from the
// same code as in production.
type specPortal struct{ fakePortal }

var errLink = apperr.E(apperr.NotFound, "This link is not valid, has expired or was already used.")

func (p *specPortal) Submit(ctx context.Context, in request.Submission) (portal.Receipt, error) {
	if p.err != nil {
		return p.fakePortal.Submit(ctx, in)
	}
	if _, err := in.Validate(); err != nil {
		return portal.Receipt{}, err
	}
	return p.fakePortal.Submit(ctx, in)
}

func (p *specPortal) Status(ctx context.Context, id, token string) (portal.Status, error) {
	if !request.ValidID(id) || token == "" {
		return portal.Status{}, errLink
	}
	return p.fakePortal.Status(ctx, id, token)
}

func (p *specPortal) CheckVerification(ctx context.Context, id, token string) (portal.Requirement, error) {
	if !request.ValidID(id) || token == "" {
		return portal.Requirement{}, errLink
	}
	return p.fakePortal.CheckVerification(ctx, id, token)
}

func (p *specPortal) ConfirmVerification(ctx context.Context, id, token string, d portal.Details) error {
	if !request.ValidID(id) || token == "" {
		return errLink
	}
	return p.fakePortal.ConfirmVerification(ctx, id, token, d)
}

func (p *specPortal) ConfirmCode(ctx context.Context, id, code string, d portal.Details) error {
	if secret.NormalizeCode(code) == "" {
		return apperr.InvalidFields(apperr.FieldError{Field: "code", Detail: "Enter the 8 letters and digits of the code in the email."})
	}
	if !request.ValidID(id) {
		return errWrongCode
	}
	return p.fakePortal.ConfirmCode(ctx, id, code, d)
}

var errDetails = &portal.DetailsError{Err: apperr.InvalidFields(apperr.FieldError{Field: "details", Detail: "These details do not match what we hold."}),
	Requirement: portal.Requirement{DataPoints: 2, Kinds: registry.DataPointKinds[:3]}}

var errWrongCode = apperr.InvalidFields(apperr.FieldError{Field: "code", Detail: "This code is not valid, has expired or was already used."})

func (p *specPortal) UploadPermission(ctx context.Context, id, token, contentType string, body []byte, poa bool) error {
	if !request.ValidID(id) || token == "" {
		return errLink
	}
	return p.fakePortal.UploadPermission(ctx, id, token, contentType, body, poa)
}

func (p *specPortal) DownloadURL(ctx context.Context, id, token string) (string, error) {
	if !request.ValidID(id) || token == "" {
		return "", errLink
	}
	return p.fakePortal.DownloadURL(ctx, id, token)
}

// answerKey names one documented answer: operation, status and media type.
func answerKey(method, path string, status int, mediaType string) string {
	return fmt.Sprintf("%s %s %d %s", method, path, status, mediaType)
}

// documentedAnswers lists every answer the document describes.
func documentedAnswers(t *testing.T) []string {
	t.Helper()
	doc := specJSON(t)
	var out []string
	for path, item := range at(t, doc, "paths").(map[string]any) {
		for method := range item.(map[string]any) {
			for code := range at(t, doc, "paths", path, method, "responses").(map[string]any) {
				var status int
				if _, err := fmt.Sscan(code, &status); err != nil {
					t.Fatalf("%s %s: response code %q", method, path, code)
				}
				res := at(t, doc, "paths", path, method, "responses", code).(map[string]any)
				content, ok := res["content"].(map[string]any)
				if !ok {
					out = append(out, answerKey(strings.ToUpper(method), path, status, ""))
					continue
				}
				for mt := range content {
					out = append(out, answerKey(strings.ToUpper(method), path, status, mt))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIContract runs requests, valid and invalid, through the handler
// and checks each request and each answer against the document: a request the
// document refuses must be refused, one it allows must be accepted, and every
// answer (status, content type, headers, body) must be one it describes. Every
// answer the document describes must be seen at least once.
func TestOpenAPIContract(t *testing.T) {
	s := loadSpec(t)
	const statusURL = "https://api.example/v1/requests/" + testID + "?token=st-123"
	receipt := portal.Receipt{ID: testID, Status: "received", StatusURL: statusURL}
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	completed := received.Add(48 * time.Hour)
	open := portal.Status{ID: testID, Type: "access", Status: "pending_verification", Jurisdiction: "EU", ReceivedAt: received, UpdatedAt: received, Due: "2026-02-02"}
	done := portal.Status{ID: testID, Type: "delete", Status: "completed", Jurisdiction: "US-CA", ReceivedAt: received, UpdatedAt: completed, CompletedAt: &completed, Due: "2026-03-18", Extended: true}
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const (
		jsonType = "application/json"
		formType = "application/x-www-form-urlencoded"
		browser  = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	)
	valid := `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`
	statusPath := "/v1/requests/" + testID
	verifyPath := statusPath + "/verify"
	codePath := statusPath + "/code"
	permissionPath := statusPath + "/permission"
	downloadPath := statusPath + "/download"
	taskPath := statusPath + "/tasks/crm"
	malformedID := "/v1/requests/dsr-2026-not-an-id"
	internal := apperr.Wrap(apperr.Internal, "secret", errors.New("sdk"))
	unavailable := apperr.Wrap(apperr.Unavailable, "throttled", errors.New("sdk"))

	type row struct {
		name       string
		method     string
		target     string
		ctype      string
		body       string
		portal     fakePortal
		valid      bool // whether the document allows the request
		wantStatus int
		wantType   string
		header     map[string]string
		prior      string // a body sent first with the same headers
	}
	rows := []row{
		// Submit: JSON.
		{name: "submit JSON", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit JSON with charset", method: "POST", target: "/v1/requests", ctype: jsonType + "; charset=utf-8", body: `{"type":"delete","email":"ada@example.com","jurisdiction":"US-CA"}`, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit JSON by an agent", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","agent_email":"agent@firm.example","jurisdiction":"US-CA"}`, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit JSON agent address invalid", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","agent_email":"firm","jurisdiction":"US-CA"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON unknown field", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","jurisdiction":"EU","colour":"red"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON number for a string", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":1,"email":"ada@example.com","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON missing email", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON bad email", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"nope","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON email too long", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"` + strings.Repeat("a", 250) + `@example.com","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON unknown jurisdiction", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","jurisdiction":"XX"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON type not offered", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"erase","email":"ada@example.com","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON appeal without its reference", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"appeal","email":"ada@example.com","jurisdiction":"US-VA"}`, valid: true, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON appeal with a malformed reference", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"appeal","email":"ada@example.com","jurisdiction":"US-VA","appeal_of":"dsr-1"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON empty object", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON null", method: "POST", target: "/v1/requests", ctype: jsonType, body: `null`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON array", method: "POST", target: "/v1/requests", ctype: jsonType, body: `[]`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON string", method: "POST", target: "/v1/requests", ctype: jsonType, body: `"access"`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON truncated", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access",`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON member names are exact", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"TYPE":"access","email":"ada@example.com","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON member without a name", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"":"","type":"access","email":"ada@example.com","jurisdiction":"EU"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON trailing brace", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid + "}", wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON two objects", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid + valid, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit JSON too large", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"` + strings.Repeat("a", MaxSubmissionBytes) + `@example.com","jurisdiction":"EU"}`, wantStatus: 413, wantType: "application/problem+json"},
		{name: "submit text/plain", method: "POST", target: "/v1/requests", ctype: "text/plain", body: valid, wantStatus: 415, wantType: "application/problem+json"},
		{name: "submit without content type", method: "POST", target: "/v1/requests", body: valid, wantStatus: 415, wantType: "application/problem+json"},
		{name: "submit correction", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"correct","email":"ada@example.com","jurisdiction":"EU","corrections":{"name":"Ada King"}}`, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit correction with a number", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"correct","email":"ada@example.com","jurisdiction":"EU","corrections":{"name":1}}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit correction without values", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"correct","email":"ada@example.com","jurisdiction":"EU","corrections":{}}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit corrections on an access request", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","jurisdiction":"EU","corrections":{"name":"Ada King"}}`, valid: true, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit with Sec-GPC", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"opt_out","email":"ada@example.com","jurisdiction":"US-CA"}`, header: map[string]string{"Sec-GPC": "1"}, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit with an idempotency key", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, header: map[string]string{"Idempotency-Key": idemKey}, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit replayed", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, header: map[string]string{"Idempotency-Key": idemKey}, prior: valid, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit idempotency key with another body", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, header: map[string]string{"Idempotency-Key": idemKey}, prior: strings.Replace(valid, "EU", "UK", 1), portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 409, wantType: "application/problem+json"},
		{name: "submit idempotency key too short", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, header: map[string]string{"Idempotency-Key": "short"}, portal: fakePortal{receipt: receipt}, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit idempotency key with a space", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, header: map[string]string{"Idempotency-Key": "a key with spaces in it"}, portal: fakePortal{receipt: receipt}, wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit rate limited", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, portal: fakePortal{err: apperr.E(apperr.RateLimited, "Too many requests. Try again later.")}, valid: true, wantStatus: 429, wantType: "application/problem+json"},
		{name: "submit internal error", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "application/problem+json"},
		{name: "submit unavailable", method: "POST", target: "/v1/requests", ctype: jsonType, body: valid, portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "application/problem+json"},
		// Submit: the web form.
		{name: "submit form", method: "POST", target: "/v1/requests", ctype: formType, body: form("type", "delete", "email", "ada@example.com", "jurisdiction", "UK"), portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: "text/html"},
		{name: "submit form with a field it ignores", method: "POST", target: "/v1/requests", ctype: formType, body: form("type", "access", "email", "ada@example.com", "jurisdiction", "BR", "send", "1"), portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: "text/html"},
		{name: "submit form bad email", method: "POST", target: "/v1/requests", ctype: formType, body: form("type", "access", "email", `x"><script>alert(1)</script>`, "jurisdiction", "EU"), wantStatus: 400, wantType: "text/html"},
		{name: "submit form empty", method: "POST", target: "/v1/requests", ctype: formType, body: "", wantStatus: 400, wantType: "text/html"},
		{name: "submit form bad escape", method: "POST", target: "/v1/requests", ctype: formType, body: "type=access&email=%zz", wantStatus: 400, wantType: "application/problem+json"},
		{name: "submit form too large", method: "POST", target: "/v1/requests", ctype: formType, body: form("type", "access", "email", strings.Repeat("a", MaxSubmissionBytes)+"@example.com", "jurisdiction", "EU"), wantStatus: 413, wantType: "application/problem+json"},
		// Status.
		{name: "status open", method: "GET", target: statusPath + "?token=st-123", portal: fakePortal{status: open}, valid: true, wantStatus: 200, wantType: jsonType},
		{name: "status completed and extended", method: "GET", target: statusPath + "?token=st-123", portal: fakePortal{status: done}, valid: true, wantStatus: 200, wantType: jsonType},
		{name: "status wrong token", method: "GET", target: statusPath + "?token=wrong", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "application/problem+json"},
		{name: "status without token", method: "GET", target: statusPath, wantStatus: 404, wantType: "application/problem+json"},
		{name: "status malformed id", method: "GET", target: malformedID + "?token=st-123", wantStatus: 404, wantType: "application/problem+json"},
		{name: "status internal error", method: "GET", target: statusPath + "?token=st-123", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "application/problem+json"},
		{name: "status unavailable", method: "GET", target: statusPath + "?token=st-123", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "application/problem+json"},
		{name: "status page", method: "GET", target: statusPath + "?token=st-123&lang=de", header: map[string]string{"Accept": browser}, portal: fakePortal{status: done}, valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "status page wrong token", method: "GET", target: statusPath + "?token=wrong", header: map[string]string{"Accept": browser}, portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "status page internal error", method: "GET", target: statusPath + "?token=st-123", header: map[string]string{"Accept": browser}, portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "status page unavailable", method: "GET", target: statusPath + "?token=st-123", header: map[string]string{"Accept": browser}, portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		// Verification page and confirmation.
		{name: "verify page", method: "GET", target: verifyPath + "?token=vt-456", valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "verify page used link", method: "GET", target: verifyPath + "?token=old", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "verify page malformed id", method: "GET", target: malformedID + "/verify?token=vt-456", wantStatus: 404, wantType: "text/html"},
		{name: "verify page internal error", method: "GET", target: verifyPath + "?token=vt-456", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "verify page unavailable", method: "GET", target: verifyPath + "?token=vt-456", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		{name: "verify confirm", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "verify confirm with details", method: "POST", target: verifyPath, ctype: formType, body: form("token", "vt-456", "name", "Ana Lima", "phone", "213 555 0199", "postal_code", "90012", "signature", "Ana Lima"), valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "verify confirm wrong details", method: "POST", target: verifyPath, ctype: formType, body: form("token", "vt-456", "name", "Ana"), portal: fakePortal{err: errDetails}, valid: true, wantStatus: 400, wantType: "text/html"},
		{name: "verify confirm handed to an operator", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", portal: fakePortal{err: portal.ErrOperatorCheck}, valid: true, wantStatus: 202, wantType: "text/html"},
		{name: "verify confirm detail too long", method: "POST", target: verifyPath, ctype: formType, body: form("token", "vt-456", "name", strings.Repeat("a", 201)), portal: fakePortal{err: errDetails}, wantStatus: 400, wantType: "text/html"},
		{name: "verify confirm before the agent's permission", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", portal: fakePortal{err: apperr.Keyed(apperr.Conflict, "agent.no_permission")}, valid: true, wantStatus: 409, wantType: "text/html"},
		{name: "verify confirm used link", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "verify confirm without token", method: "POST", target: verifyPath, ctype: formType, body: "", wantStatus: 404, wantType: "text/html"},
		{name: "verify confirm bad escape", method: "POST", target: verifyPath, ctype: formType, body: "token=%zz", wantStatus: 400, wantType: "text/html"},
		{name: "verify confirm too large", method: "POST", target: verifyPath, ctype: formType, body: "token=" + strings.Repeat("a", MaxBodyBytes), wantStatus: 413, wantType: "text/html"},
		{name: "verify confirm rate limited", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", portal: fakePortal{err: apperr.E(apperr.RateLimited, "Too many requests. Try again later.")}, valid: true, wantStatus: 429, wantType: "text/html"},
		{name: "verify confirm internal error", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "verify confirm unavailable", method: "POST", target: verifyPath, ctype: formType, body: "token=vt-456", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		// Code entry.
		{name: "code page", method: "GET", target: codePath, valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "code page malformed id", method: "GET", target: malformedID + "/code", wantStatus: 404, wantType: "text/html"},
		{name: "code confirm", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-2345", valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "code confirm lower case with spaces", method: "POST", target: codePath, ctype: formType, body: form("code", " bcdf 2345 "), valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "code confirm wrong code", method: "POST", target: codePath, ctype: formType, body: "code=ZZZZ-ZZZZ", portal: fakePortal{err: errWrongCode}, valid: true, wantStatus: 400, wantType: "text/html"},
		{name: "code confirm not a code", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-234O", valid: true, wantStatus: 400, wantType: "text/html"},
		{name: "code confirm too short", method: "POST", target: codePath, ctype: formType, body: "code=BCD", wantStatus: 400, wantType: "text/html"},
		{name: "code confirm too long", method: "POST", target: codePath, ctype: formType, body: "code=" + strings.Repeat("B", 33), wantStatus: 400, wantType: "text/html"},
		{name: "code confirm without code", method: "POST", target: codePath, ctype: formType, body: "", wantStatus: 400, wantType: "text/html"},
		{name: "code confirm malformed id", method: "POST", target: malformedID + "/code", ctype: formType, body: "code=BCDF-2345", wantStatus: 404, wantType: "text/html"},
		{name: "code confirm bad escape", method: "POST", target: codePath, ctype: formType, body: "code=%zz", wantStatus: 400, wantType: "text/html"},
		{name: "code confirm too large", method: "POST", target: codePath, ctype: formType, body: "code=" + strings.Repeat("a", MaxBodyBytes), wantStatus: 413, wantType: "text/html"},
		{name: "code confirm handed to an operator", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-2345", portal: fakePortal{err: portal.ErrOperatorCheck}, valid: true, wantStatus: 202, wantType: "text/html"},
		{name: "code confirm before the agent's permission", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-2345", portal: fakePortal{err: apperr.Keyed(apperr.Conflict, "agent.no_permission")}, valid: true, wantStatus: 409, wantType: "text/html"},
		{name: "code confirm rate limited", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-2345", portal: fakePortal{err: apperr.E(apperr.RateLimited, "Too many requests. Try again later.")}, valid: true, wantStatus: 429, wantType: "text/html"},
		{name: "code confirm internal error", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-2345", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "code confirm unavailable", method: "POST", target: codePath, ctype: formType, body: "code=BCDF-2345", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		// An agent's permission.
		{name: "permission PDF", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "%PDF-1.7 signed", valid: true, wantStatus: 204},
		{name: "permission PNG with power of attorney", method: "PUT", target: permissionPath + "?token=st-123&power_of_attorney=true", ctype: "image/png", body: "\x89PNG\r\n\x1a\n....", valid: true, wantStatus: 204},
		{name: "permission JPEG", method: "PUT", target: permissionPath + "?token=st-123&power_of_attorney=false", ctype: "image/jpeg", body: "\xff\xd8\xff\xe0", valid: true, wantStatus: 204},
		{name: "permission bad power of attorney", method: "PUT", target: permissionPath + "?token=st-123&power_of_attorney=yes", ctype: "application/pdf", body: "%PDF-1.7", wantStatus: 400, wantType: "application/problem+json"},
		{name: "permission wrong token", method: "PUT", target: permissionPath + "?token=wrong", ctype: "application/pdf", body: "%PDF-1.7", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "application/problem+json"},
		{name: "permission without token", method: "PUT", target: permissionPath, ctype: "application/pdf", body: "%PDF-1.7", wantStatus: 404, wantType: "application/problem+json"},
		{name: "permission not an agent's request", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "%PDF-1.7", portal: fakePortal{err: apperr.Keyed(apperr.Conflict, "agent.permission.not_agent")}, valid: true, wantStatus: 409, wantType: "application/problem+json"},
		{name: "permission too large", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "%PDF-" + strings.Repeat("a", portal.MaxPermissionBytes), valid: true, wantStatus: 413, wantType: "application/problem+json"},
		{name: "permission of another type", method: "PUT", target: permissionPath + "?token=st-123", ctype: "text/plain", body: "I agree", wantStatus: 415, wantType: "application/problem+json"},
		{name: "permission whose bytes are not its type", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "MZ not a pdf", portal: fakePortal{err: &apperr.Error{Kind: apperr.Unsupported, Msg: "Send the signed permission as a PDF, PNG or JPEG file."}}, valid: true, wantStatus: 415, wantType: "application/problem+json"},
		{name: "permission rate limited", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "%PDF-1.7", portal: fakePortal{err: apperr.E(apperr.RateLimited, "Too many requests. Try again later.")}, valid: true, wantStatus: 429, wantType: "application/problem+json"},
		{name: "permission internal error", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "%PDF-1.7", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "application/problem+json"},
		{name: "permission unavailable", method: "PUT", target: permissionPath + "?token=st-123", ctype: "application/pdf", body: "%PDF-1.7", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "application/problem+json"},
		// The same from the web form's page, which the agent may open again.
		{name: "permission page", method: "GET", target: permissionPath + "?token=st-123&lang=fi", portal: fakePortal{status: portal.Status{ID: testID, Type: "access", Status: "pending_verification"}}, valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "permission page wrong token", method: "GET", target: permissionPath + "?token=wrong", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "permission page internal error", method: "GET", target: permissionPath + "?token=st-123", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "permission page unavailable", method: "GET", target: permissionPath + "?token=st-123", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		{name: "permission form PDF", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-1.7 signed", false), valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "permission form power of attorney", method: "POST", target: permissionPath + "?token=st-123&lang=de", ctype: multipartType, body: multipartBody("image/png", "\x89PNG\r\n\x1a\n....", true), valid: true, wantStatus: 200, wantType: "text/html"},
		// The validator reads no multipart body, so it passes a form that
		// lacks the required file; the handler refuses it.
		{name: "permission form without a file", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("", "", true), valid: true, wantStatus: 400, wantType: "text/html"},
		{name: "permission form wrong token", method: "POST", target: permissionPath + "?token=wrong", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-1.7", false), portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "permission form not an agent's request", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-1.7", false), portal: fakePortal{err: apperr.Keyed(apperr.Conflict, "agent.permission.not_agent")}, valid: true, wantStatus: 409, wantType: "text/html"},
		{name: "permission form too large", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-"+strings.Repeat("a", portal.MaxPermissionBytes+multipartOverhead), false), valid: true, wantStatus: 413, wantType: "text/html"},
		{name: "permission form not multipart", method: "POST", target: permissionPath + "?token=st-123", ctype: formType, body: "permission=x", wantStatus: 415, wantType: "text/html"},
		{name: "permission form of another type", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("text/plain", "I agree", false), portal: fakePortal{err: &apperr.Error{Kind: apperr.Unsupported, Msg: "Send the signed permission as a PDF, PNG or JPEG file."}}, valid: true, wantStatus: 415, wantType: "text/html"},
		{name: "permission form rate limited", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-1.7", false), portal: fakePortal{err: apperr.E(apperr.RateLimited, "Too many requests. Try again later.")}, valid: true, wantStatus: 429, wantType: "text/html"},
		{name: "permission form internal error", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-1.7", false), portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "permission form unavailable", method: "POST", target: permissionPath + "?token=st-123", ctype: multipartType, body: multipartBody("application/pdf", "%PDF-1.7", false), portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		// A manual source's task.
		{name: "task page", method: "GET", target: taskPath + "?token=tk-1&lang=de", valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "task page wrong token", method: "GET", target: taskPath + "?token=wrong", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "task page expired", method: "GET", target: taskPath + "?token=tk-1", portal: fakePortal{err: apperr.E(apperr.Forbidden, "This link has expired.")}, valid: true, wantStatus: 403, wantType: "text/html"},
		{name: "task page answered", method: "GET", target: taskPath + "?token=tk-1", portal: fakePortal{err: apperr.E(apperr.Conflict, "This task was answered already.")}, valid: true, wantStatus: 409, wantType: "text/html"},
		{name: "task page internal error", method: "GET", target: taskPath + "?token=tk-1", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "task page unavailable", method: "GET", target: taskPath + "?token=tk-1", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		{name: "task answer export", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("done", "a,b\n1,2\n", "From the CRM."), valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "task answer none", method: "POST", target: taskPath + "?token=tk-1&lang=fi", ctype: multipartType, body: taskBody("none", "", ""), valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "task answer without a choice", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("", "", ""), valid: true, wantStatus: 400, wantType: "text/html"},
		{name: "task answer expired", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("none", "", ""), portal: fakePortal{taskErr: apperr.E(apperr.Forbidden, "This link has expired.")}, valid: true, wantStatus: 403, wantType: "text/html"},
		{name: "task answer wrong token", method: "POST", target: taskPath + "?token=wrong", ctype: multipartType, body: taskBody("none", "", ""), portal: fakePortal{taskErr: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "task answer twice", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("none", "", ""), portal: fakePortal{taskErr: apperr.E(apperr.Conflict, "This task was answered already.")}, valid: true, wantStatus: 409, wantType: "text/html"},
		{name: "task answer too large", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("done", strings.Repeat("a", taskUpload), ""), valid: true, wantStatus: 413, wantType: "text/html"},
		{name: "task answer not multipart", method: "POST", target: taskPath + "?token=tk-1", ctype: formType, body: "answer=none", wantStatus: 415, wantType: "text/html"},
		{name: "task answer not an export", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("done", "<html></html>", ""), portal: fakePortal{taskErr: apperr.E(apperr.Unsupported, "The file is not CSV, JSON or PDF.")}, valid: true, wantStatus: 415, wantType: "text/html"},
		{name: "task answer rate limited", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("none", "", ""), portal: fakePortal{taskErr: apperr.E(apperr.RateLimited, "Too many requests. Try again later.")}, valid: true, wantStatus: 429, wantType: "text/html"},
		{name: "task answer internal error", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("none", "", ""), portal: fakePortal{taskErr: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "task answer unavailable", method: "POST", target: taskPath + "?token=tk-1", ctype: multipartType, body: taskBody("none", "", ""), portal: fakePortal{taskErr: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		{name: "callback", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"done","records":[{"ticket":1}]}`, valid: true, wantStatus: 200, wantType: jsonType},
		{name: "callback erased", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"done","erased":2,"note":"2 chats"}`, valid: true, wantStatus: 200, wantType: jsonType},
		{name: "callback malformed", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"done"}`, portal: fakePortal{taskErr: apperr.InvalidFields(apperr.FieldError{Field: "body", Detail: "records missing"})}, valid: true, wantStatus: 400, wantType: "application/problem+json"},
		{name: "callback badly signed", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"none"}`, portal: fakePortal{taskErr: apperr.E(apperr.Forbidden, "The callback's signature does not check out.")}, valid: true, wantStatus: 403, wantType: "application/problem+json"},
		{name: "callback wrong token", method: "POST", target: taskPath + "/callback?token=wrong", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"none"}`, portal: fakePortal{taskErr: apperr.E(apperr.NotFound, "This callback URL is not valid.")}, valid: true, wantStatus: 404, wantType: "application/problem+json"},
		{name: "callback answered", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"none"}`, portal: fakePortal{taskErr: apperr.E(apperr.Conflict, "This task was answered already.")}, valid: true, wantStatus: 409, wantType: "application/problem+json"},
		{name: "callback too large", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"none","note":"` + strings.Repeat("a", 5<<20) + `"}`, wantStatus: 413, wantType: "application/problem+json"},
		{name: "callback internal error", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"none"}`, portal: fakePortal{taskErr: internal}, valid: true, wantStatus: 500, wantType: "application/problem+json"},
		{name: "callback unavailable", method: "POST", target: taskPath + "/callback?token=cb-1", ctype: jsonType, header: map[string]string{"Privacy-Signature": "t=1,v1=ab"}, body: `{"request_id":"` + testID + `","source_id":"crm","status":"none"}`, portal: fakePortal{taskErr: unavailable}, valid: true, wantStatus: 503, wantType: "application/problem+json"},
		// Download.
		{name: "download", method: "GET", target: downloadPath + "?token=dl-789", portal: fakePortal{downloadURL: "https://exports.s3.example/pkg.zip?X-Amz-Signature=abc"}, valid: true, wantStatus: 302},
		{name: "download expired", method: "GET", target: downloadPath + "?token=dl-789", portal: fakePortal{err: errLink}, valid: true, wantStatus: 404, wantType: "text/html"},
		{name: "download without token", method: "GET", target: downloadPath, wantStatus: 404, wantType: "text/html"},
		{name: "download internal error", method: "GET", target: downloadPath + "?token=dl-789", portal: fakePortal{err: internal}, valid: true, wantStatus: 500, wantType: "text/html"},
		{name: "download unavailable", method: "GET", target: downloadPath + "?token=dl-789", portal: fakePortal{err: unavailable}, valid: true, wantStatus: 503, wantType: "text/html"},
		// The rest.
		{name: "form", method: "GET", target: "/", valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "form under a law, in Finnish", method: "GET", target: "/?jurisdiction=US-CA&lang=fi", valid: true, wantStatus: 200, wantType: "text/html"},
		{name: "form for no such law", method: "GET", target: "/?jurisdiction=XX", valid: true, wantStatus: 400, wantType: "text/html"},
		{name: "submit form in German", method: "POST", target: "/v1/requests", ctype: formType, body: form("type", "access", "email", "ada@example.com", "jurisdiction", "EU", "language", "de"), portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: "text/html"},
		{name: "submit JSON with a language", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","jurisdiction":"EU","language":"fi"}`, portal: fakePortal{receipt: receipt}, valid: true, wantStatus: 202, wantType: jsonType},
		{name: "submit JSON with an unknown language", method: "POST", target: "/v1/requests", ctype: jsonType, body: `{"type":"access","email":"ada@example.com","jurisdiction":"EU","language":"fr"}`, wantStatus: 400, wantType: "application/problem+json"},
		{name: "health", method: "GET", target: "/healthz", valid: true, wantStatus: 200, wantType: jsonType},
		{name: "gpc", method: "GET", target: "/.well-known/gpc.json", valid: true, wantStatus: 200, wantType: jsonType},
		{name: "openapi", method: "GET", target: "/openapi.json", valid: true, wantStatus: 200, wantType: jsonType},
	}

	seen := map[string]bool{}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			p := &specPortal{fakePortal: tc.portal}
			keeper := &idempotency.Keeper{Store: memstore.NewIdempotency(), Clock: clock.System{}}
			h := New(p, slog.New(slog.NewTextHandler(io.Discard, nil)), WithIdempotency(keeper), WithTasks(p))
			newRequest := func(body string) *http.Request {
				req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(body))
				if tc.ctype != "" {
					req.Header.Set("Content-Type", tc.ctype)
				}
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				return req
			}
			if tc.prior != "" {
				h.ServeHTTP(httptest.NewRecorder(), newRequest(tc.prior))
			}
			req := newRequest(tc.body)
			reqOK, why := s.checkRequest(req, []byte(tc.body))
			if reqOK != tc.valid {
				t.Errorf("the document says the request is valid: %v, want %v%s", reqOK, tc.valid, why)
			}

			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tc.wantStatus, body)
			}
			if !reqOK && (res.StatusCode < 400 || res.StatusCode >= 500) {
				t.Errorf("a request the document refuses got %d", res.StatusCode)
			}
			mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
			if res.StatusCode == http.StatusFound {
				mt = "" // the redirect's body is a courtesy; the document gives it no content
			}
			if mt != tc.wantType {
				t.Errorf("Content-Type = %q, want %s", res.Header.Get("Content-Type"), tc.wantType)
			}
			if ok, why := s.checkResponse(req, res, body); !ok {
				t.Errorf("the answer does not match the document:%s\n%s", why, body)
			}
			seen[answerKey(tc.method, s.pathOf(req), res.StatusCode, mt)] = true
		})
	}

	for _, a := range documentedAnswers(t) {
		if !seen[a] {
			t.Errorf("no row exercises the documented answer %s", a)
		}
	}
}

// servedRoutes are the patterns of the routes httpapi.go serves, read from
// its source ("GET /v1/requests/{id}").
func servedRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("httpapi.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+ [^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		routes = append(routes, m[1])
	}
	if len(routes) < 5 {
		t.Fatalf("found only %d routes in httpapi.go: the pattern no longer matches", len(routes))
	}
	return routes
}

// TestOpenAPIDocumentsEveryRoute checks that every route the handler serves
// is in the document, and nothing else is.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var served []string
	for _, route := range servedRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		path = strings.TrimSuffix(path, "{$}")
		if path == "" {
			path = "/"
		}
		served = append(served, method+" "+path)
	}
	var documented []string
	for path, item := range at(t, specJSON(t), "paths").(map[string]any) {
		for method := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sameSet(t, "routes", documented, served)
}

// TestOpenAPIServed checks that /openapi.json serves the document itself.
func TestOpenAPIServed(t *testing.T) {
	h := New(&fakePortal{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), openAPIDocument) {
		t.Fatalf("GET /openapi.json = %d, %d bytes; want 200 and the %d bytes of openapi.json", rec.Code, rec.Body.Len(), len(openAPIDocument))
	}
}

// TestGPC checks the GPC support resource against the GPC specification: a
// JSON object with "gpc": true and "lastUpdate" as an ISO 8601 date.
func TestGPC(t *testing.T) {
	h := New(&fakePortal{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/gpc.json", nil))
	if rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != "application/json" {
		t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["gpc"] != true {
		t.Errorf("gpc = %v, want true", got["gpc"])
	}
	last, _ := got["lastUpdate"].(string)
	if _, err := time.Parse(time.DateOnly, last); err != nil {
		t.Errorf("lastUpdate = %q, not YYYY-MM-DD: %v", last, err)
	}
	if len(got) != 2 {
		t.Errorf("members = %v, want gpc and lastUpdate", got)
	}
}

// multipartType and multipartBody make the web form's permission upload:
// the file (left out when contentType is empty) and the check box.
const multipartType = "multipart/form-data; boundary=" + multipartBoundary

const multipartBoundary = "b0undary"

func multipartBody(contentType, file string, poa bool) string {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary(multipartBoundary)
	if contentType != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="permission"; filename="permission"`)
		h.Set("Content-Type", contentType)
		part, _ := w.CreatePart(h)
		_, _ = part.Write([]byte(file))
	}
	if poa {
		_ = w.WriteField("power_of_attorney", "true")
	}
	_ = w.Close()
	return b.String()
}

// taskBody is the task page's form: the answer, the file (if any) and the
// note (if any).
func taskBody(answer, file, note string) string {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary(multipartBoundary)
	if answer != "" {
		_ = w.WriteField("answer", answer)
	}
	if file != "" {
		part, _ := w.CreateFormFile("file", "export.csv")
		_, _ = part.Write([]byte(file))
	}
	if note != "" {
		_ = w.WriteField("note", note)
	}
	_ = w.Close()
	return b.String()
}
