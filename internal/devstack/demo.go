package devstack

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

//go:embed demo-sources.yaml
var demoRegistry []byte

// DemoRegistry is the data-source registry of the demo company.
func DemoRegistry() []byte { return demoRegistry }

// DemoSubject is the person the demo data is about; other people's data sits
// beside hers in every table and object.
const (
	DemoSubject       = "jane.doe@example.com"
	DemoSubjectUserID = "u-1001"
)

type demoUser struct {
	UserID string `dynamodbav:"user_id"`
	Email  string `dynamodbav:"email"`
	Name   string `dynamodbav:"name"`
	Plan   string `dynamodbav:"plan"`
	// Phone and PostalCode are data points a requester can be asked for.
	Phone      string `dynamodbav:"phone"`
	PostalCode string `dynamodbav:"postal_code"`
	// CustomerNo is the loyalty scheme's number, a DynamoDB number here and
	// written as a JSON number or as text in the loyalty file.
	CustomerNo int `dynamodbav:"customer_no"`
	// CRMID is the sales CRM's id of a business customer, which only
	// DemoCRMSubject has: the CRM (a manual source) is asked about her.
	CRMID string `dynamodbav:"crm_id,omitempty"`
}

type demoOrder struct {
	UserID  string `dynamodbav:"user_id"`
	OrderID string `dynamodbav:"order_id"`
	Total   string `dynamodbav:"total"`
	Item    string `dynamodbav:"item"`
}

var demoUsers = []demoUser{
	{DemoSubjectUserID, DemoSubject, "Jane Doe", "pro", "415-555-0101", "94110", 1001, ""},
	{"u-1002", "john.roe@example.com", "John Roe", "free", "020 7946 0958", "SW1A 1AA", 1002, ""},
	{"u-1003", "ana.lima@example.org", "Ana Lima", "pro", "(213) 555-0199", "90012", 1003, ""},
	{"u-1004", "li.wei@example.net", "Li Wei", "team", "646-555-0144", "10001", 1004, ""},
	{DemoMessyUserID, DemoMessySubject, "Max Muster", "free", "030 901820", "10115", 1005, ""},
	{DemoCRMUserID, DemoCRMSubject, "Sam Berg", "team", "08-555 0177", "11122", 1006, "crm-4471"},
}

// DemoCRMSubject is the one demo customer the sales CRM knows: her requests
// wait for the CRM's owner (privacyctl tasks).
const (
	DemoCRMSubject = "sam.berg@example.com"
	DemoCRMUserID  = "u-1006"
)

// DemoMessySubject's data is damaged where the demo company's data is: a
// line of the analytics events cut off in the middle, and his address in
// the copy field of someone else's support ticket. Erasing him stops for an
// operator at each place (privacyctl findings).
const (
	DemoMessySubject = "max.muster@example.com"
	DemoMessyUserID  = "u-1005"
)

var demoOrders = []demoOrder{
	{DemoSubjectUserID, "o-5001", "19.90", "notebook"},
	{DemoSubjectUserID, "o-5002", "5.00", "pen"},
	{"u-1002", "o-5003", "42.00", "backpack"},
	{"u-1003", "o-5004", "7.50", "mug"},
}

type demoReview struct {
	ReviewID   string `dynamodbav:"review_id"`
	Email      string `dynamodbav:"email"`
	AuthorName string `dynamodbav:"author_name"`
	Product    string `dynamodbav:"product"`
	Rating     int    `dynamodbav:"rating"`
	Text       string `dynamodbav:"text"`
}

var demoReviews = []demoReview{
	{"r-7001", DemoSubject, "Jane D.", "notebook", 5, "Good paper, lies flat."},
	{"r-7002", "john.roe@example.com", "John", "backpack", 4, "Roomy."},
	{"r-7003", DemoSubject, "Jane D.", "pen", 3, "Smudges a little."},
	{"r-7004", "ana.lima@example.org", "Ana L.", "mug", 5, "Keeps tea hot."},
}

// demoAppItems are the app's own table, one table for several kinds of
// item (single-table design): per customer, under USER#<user id>, a
// preferences item and sign-in sessions, told apart by the sort key, and
// the site's settings.
var demoAppItems = []map[string]any{
	{"pk": "USER#" + DemoSubjectUserID, "sk": "PREFERENCES", "language": "en", "marketing_emails": true, "theme": "dark", "schema_version": 3},
	{"pk": "USER#" + DemoSubjectUserID, "sk": "SESSION#2026-11-20T08:15:00Z", "device": "Firefox on Linux", "country": "GB"},
	{"pk": "USER#" + DemoSubjectUserID, "sk": "SESSION#2026-11-22T19:02:00Z", "device": "Safari on iOS", "country": "GB"},
	{"pk": "USER#u-1002", "sk": "PREFERENCES", "language": "en", "marketing_emails": false, "theme": "light", "schema_version": 3},
	{"pk": "USER#u-1003", "sk": "PREFERENCES", "language": "pt", "marketing_emails": true, "theme": "light", "schema_version": 2},
	{"pk": "USER#u-1003", "sk": "SESSION#2026-11-21T12:00:00Z", "device": "Chrome on Android", "country": "PT"},
	{"pk": "USER#u-10010", "sk": "PREFERENCES", "language": "fi", "marketing_emails": false, "theme": "dark", "schema_version": 3},
	{"pk": "SITE", "sk": "SETTINGS", "maintenance": false, "schema_version": 1},
}

// DemoTables and DemoBuckets are the demo company's stores.
var (
	DemoTables  = tableNames(demoTableSpecs)
	DemoBuckets = []string{"demo-events", "demo-billing", "demo-archive"}
	// DemoVersionedBuckets keep every version of an object.
	DemoVersionedBuckets = []string{"demo-archive"}
)

// Erasure of the demo subject keeps what the registry says: her reviews
// without these fields, and her invoices (retained by law) as they are.
var (
	DemoAnonymizedTable  = "demo-reviews"
	DemoAnonymizedFields = []string{"email", "author_name"}
	DemoRetainedPrefix   = "demo-billing/invoices/"
)

// demoObjects are JSON Lines objects with the subject's rows between other
// people's.
func demoObjects() map[string]string {
	events := func(day string, users []string) string {
		var b strings.Builder
		for i, u := range users {
			fmt.Fprintf(&b, `{"ts":"2026-11-%sT%02d:00:00Z","user_id":%q,"event":"page_view","page":"/products/%d"}`+"\n", day, i+8, u, i+1)
		}
		return b.String()
	}
	return map[string]string{
		"events/2026-11-01.jsonl": events("01", []string{"u-1002", DemoSubjectUserID, "u-1003", DemoSubjectUserID, "u-1004"}),
		"events/2026-11-02.jsonl": events("02", []string{"u-1003", "u-1002", DemoSubjectUserID}),
		// Max's second visit was cut off as it was written.
		"events/2026-11-03.jsonl": events("03", []string{"u-1004", "u-1002", DemoMessyUserID}) +
			`{"ts":"2026-11-03T11:00:00Z","user_id":"` + DemoMessyUserID + `","event":"page_vi` + "\n" +
			events("03", []string{"u-1003"}),
		// Written by a tool that starts its files with a byte order mark;
		// Jane's visit is the first line.
		"events/2026-11-04.jsonl": "\ufeff" + events("04", []string{DemoSubjectUserID, "u-1002"}),
		"clickstream/2026-11-01T09.jsonl": `{"ts":"2026-11-01T09:12:01Z","user_id":"u-1002","target":"#buy"}` + "\n" +
			`{"ts":"2026-11-01T09:12:07Z","user_id":"` + DemoSubjectUserID + `","target":"#search"}` + "\n",
		// Whole objects per customer (a key template source): every file in
		// her folder is hers, whether or not it names her; u-10010 only
		// looks like her.
		"profiles/users/" + DemoSubjectUserID + "/profile.json":  `{"user_id":"` + DemoSubjectUserID + `","display_name":"Jane D.","theme":"dark"}`,
		"profiles/users/" + DemoSubjectUserID + "/segments.json": `[{"segment":"frequent buyer","score":0.92},{"segment":"stationery","score":0.71}]`,
		"profiles/users/u-1002/profile.json":                     `{"user_id":"u-1002","display_name":"John R.","theme":"light"}`,
		"profiles/users/u-10010/profile.json":                    `{"user_id":"u-10010","display_name":"Lookalike","theme":"light"}`,
		"support/tickets.jsonl": `{"ticket_id":"t-1","email":"john.roe@example.com","subject":"Refund"}` + "\n" +
			`{"ticket_id":"t-2","email":"jane.doe@example.com","subject":"Change of address"}` + "\n" +
			`{"ticket_id":"t-3","email":"ana.lima@example.org","subject":"Question about referral codes"}` + "\n" +
			// Typed by an agent as the customer wrote it.
			`{"ticket_id":"t-4","email":" Jane.Doe@Example.COM","subject":"Invoice copy"}` + "\n" +
			// John's ticket, with Max in copy: the registry matches tickets
			// by their email only, so Max's address here is for an operator.
			`{"ticket_id":"t-5","email":"john.roe@example.com","cc":"Max.Muster@example.com","subject":"Shared account"}` + "\n",
		// Loyalty points by customer number: a number in one export, text in
		// another; 10010 only looks like Jane's.
		"loyalty/points.jsonl": `{"customer_no":1001,"points":120}` + "\n" +
			`{"customer_no":"1002","points":15}` + "\n" +
			`{"customer_no":"1001","points":-20,"reason":"refund"}` + "\n" +
			`{"customer_no":10010,"points":7}` + "\n",
	}
}

// demoInvoices are the billing bucket's objects: invoices, which the law
// requires to keep, as CSV.
func demoInvoices() map[string]string {
	return map[string]string{
		"invoices/2025.csv": "invoice_id,user_id,issued_on,amount,currency\n" +
			"inv-9001," + DemoSubjectUserID + ",2025-02-14,19.90,EUR\n" +
			"inv-9002,u-1002,2025-03-02,42.00,EUR\n" +
			"inv-9003," + DemoSubjectUserID + ",2025-06-30,5.00,EUR\n",
	}
}

// demoVersions are the versioned bucket's objects, each written in turn: a
// profile per customer (its key holds the user id) and a shared export of
// all profiles. Older versions of both hold the subject.
func demoVersions() []struct{ key, body string } {
	profile := func(id, email, address string) string {
		return fmt.Sprintf(`{"user_id":%q,"email":%q,"address":%q}`, id, email, address) + "\n"
	}
	janeOld := profile(DemoSubjectUserID, DemoSubject, "1 Old Street, Leeds")
	jane := profile(DemoSubjectUserID, DemoSubject, "9 New Road, York")
	johnOld := profile("u-1002", "john.roe@example.com", "2 Mill Lane, Hull")
	john := profile("u-1002", "john.roe@example.com", "4 Mill Lane, Hull")
	ana := profile("u-1003", "ana.lima@example.org", "7 Quay Street, Bristol")
	return []struct{ key, body string }{
		{"profiles/" + DemoSubjectUserID + ".jsonl", janeOld},
		{"profiles/" + DemoSubjectUserID + ".jsonl", jane},
		{"profiles/u-1002.jsonl", johnOld},
		{"profiles/u-1002.jsonl", john},
		{"profiles/export.jsonl", janeOld + johnOld},
		{"profiles/export.jsonl", jane + john + ana},
	}
}

// demoGzipObjects are gzip-compressed objects: an archive of visits in
// JSON Lines, and a CSV export whose fields hold quoted commas and doubled quotes.
func demoGzipObjects() map[string]string {
	return map[string]string{
		"newsletter/subscribers.csv.gz": "email,name,topics\r\n" +
			"john.roe@example.com,John Roe,\"offers, news\"\r\n" +
			"jane.doe@example.com,Jane Doe,\"news, \"\"weekly\"\" digest\"\r\n" +
			"ana.lima@example.org,Ana Lima,news\r\n",
		"archive/visits-2026-10.jsonl.gz": `{"user_id":"u-1002","page":"/pricing","at":"2026-10-01T09:00:00Z"}` + "\n" +
			`{"user_id":"` + DemoSubjectUserID + `","page":"/account","at":"2026-10-01T09:05:00Z"}` + "\n" +
			`{"user_id":"u-1003","page":"/","at":"2026-10-02T17:30:00Z"}` + "\n",
	}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

// demoTableSpec is a demo table's key schema: string keys, an optional sort
// key and an optional index named after the attribute it is keyed on.
type demoTableSpec struct{ name, hash, sort, index string }

var demoTableSpecs = []demoTableSpec{
	{name: "demo-users", hash: "user_id", index: "email"},
	{name: "demo-orders", hash: "user_id", sort: "order_id"},
	{name: "demo-reviews", hash: "review_id", index: "email"},
	{name: "demo-app", hash: "pk", sort: "sk"},
}

func tableNames(specs []demoTableSpec) []string {
	names := make([]string, len(specs))
	for i, t := range specs {
		names[i] = t.name
	}
	return names
}

func createDemoTable(ctx context.Context, ddb *dynamodb.Client, t demoTableSpec) error {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String(t.hash), KeyType: types.KeyTypeHash}},
	}
	for _, attr := range []string{t.hash, t.sort, t.index} {
		if attr != "" {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(attr), AttributeType: types.ScalarAttributeTypeS})
		}
	}
	if t.sort != "" {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(t.sort), KeyType: types.KeyTypeRange})
	}
	if t.index != "" {
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(t.index + "-index"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(t.index), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}
	}
	if _, err := ddb.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	return nil
}

// seedDemo creates and fills the demo company's tables and bucket.
func seedDemo(ctx context.Context, ddb *dynamodb.Client, s3c *s3.Client, region string) error {
	for _, t := range demoTableSpecs {
		if err := createDemoTable(ctx, ddb, t); err != nil {
			return err
		}
	}
	for _, it := range demoAppItems {
		if err := putItem(ctx, ddb, "demo-app", it); err != nil {
			return err
		}
	}
	for _, rv := range demoReviews {
		if err := putItem(ctx, ddb, "demo-reviews", rv); err != nil {
			return err
		}
	}
	for _, u := range demoUsers {
		if err := putItem(ctx, ddb, "demo-users", u); err != nil {
			return err
		}
	}
	for _, o := range demoOrders {
		if err := putItem(ctx, ddb, "demo-orders", o); err != nil {
			return err
		}
	}
	for _, b := range DemoBuckets {
		if err := createBucket(ctx, s3c, b, region); err != nil {
			return err
		}
	}
	for key, body := range demoGzipObjects() {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-events"), Key: aws.String(key),
			Body: bytes.NewReader(gzipped(body)), ContentType: aws.String("text/csv"), ContentEncoding: aws.String("gzip")})
		if err != nil {
			return fmt.Errorf("object %s: %w", key, err)
		}
	}
	for _, b := range DemoVersionedBuckets {
		_, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
		if err != nil {
			return fmt.Errorf("versioning of %s: %w", b, err)
		}
	}
	for _, v := range demoVersions() {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-archive"), Key: aws.String(v.key), Body: strings.NewReader(v.body)})
		if err != nil {
			return fmt.Errorf("object %s: %w", v.key, err)
		}
	}
	for key, body := range demoInvoices() {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-billing"), Key: aws.String(key),
			Body: strings.NewReader(body), ContentType: aws.String("text/csv")})
		if err != nil {
			return fmt.Errorf("object %s: %w", key, err)
		}
	}
	for key, body := range demoObjects() {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-events"), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			return fmt.Errorf("object %s: %w", key, err)
		}
	}
	lake, err := demoLake()
	if err != nil {
		return fmt.Errorf("object %s: %w", DemoLakeKey, err)
	}
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-events"), Key: aws.String(DemoLakeKey), Body: bytes.NewReader(lake),
		ContentType: aws.String("application/vnd.apache.parquet")})
	if err != nil {
		return fmt.Errorf("object %s: %w", DemoLakeKey, err)
	}
	return nil
}

func putItem(ctx context.Context, ddb *dynamodb.Client, table string, v any) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return err
	}
	_, err = ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	return err
}
