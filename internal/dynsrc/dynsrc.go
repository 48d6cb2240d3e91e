// Package dynsrc finds and erases a subject's items in the company's DynamoDB
// tables, as the data-source registry describes them. Identity values only
// ever travel as expression attribute values, never inside an expression.
package dynsrc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// API is the part of the DynamoDB client this package uses.
type API interface {
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Adapter reads and erases DynamoDB sources.
type Adapter struct {
	api     API
	schemas sync.Map // table name -> schema
}

// New returns an adapter on a DynamoDB client.
func New(api API) *Adapter { return &Adapter{api: api} }

// batch is how many deletes are written down in the journal together and
// then sent, parallel bounds how many of them are in flight at once.
const (
	batch    = 25
	parallel = 8
)

// Find returns the subject's items: those whose partition key (on the table or
// the configured index) equals one of the subject's identity values.
func (a *Adapter) Find(ctx context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, []erasure.Finding, error) {
	raw, _, err := a.query(ctx, src, ids)
	if err != nil {
		return nil, nil, err
	}
	records := make([]map[string]any, 0, len(raw))
	for _, item := range raw {
		var m map[string]any
		if err := attributevalue.UnmarshalMapWithOptions(item, &m, func(o *attributevalue.DecoderOptions) { o.UseNumber = true }); err != nil {
			return nil, nil, apperr.Wrap(apperr.Internal, "An item could not be decoded.", err)
		}
		records = append(records, jsonNumbers(m).(map[string]any))
	}
	return records, nil, nil
}

// Check reports whether the source's table is there and its lookup fits the
// table's key schema (and the sort key's value its type), reading no item.
func (a *Adapter) Check(ctx context.Context, src *registry.Source) error {
	_, _, err := a.prepare(ctx, src.DynamoDB)
	return err
}

// prepare reads the table's schema, checks the source's lookup against it
// and types the sort key's fixed value (nil without a sort key).
func (a *Adapter) prepare(ctx context.Context, d *registry.DynamoDBSource) (schema, types.AttributeValue, error) {
	ts, err := a.tableSchema(ctx, d.Table)
	if err != nil {
		return schema{}, nil, err
	}
	if err := ts.fits(d); err != nil {
		return schema{}, nil, err
	}
	k := d.SortKey
	if k == nil {
		return ts, nil, nil
	}
	v, ok := ts.value(k.Attribute, k.Value+k.BeginsWith) // the registry gives one of them
	if !ok {
		return schema{}, nil, apperr.E(apperr.Invalid, "A DynamoDB source's sort key value does not fit the attribute's type.")
	}
	return ts, v, nil
}

// jsonNumbers turns the decoder's attributevalue.Number, which has no
// MarshalJSON and would be written as a JSON string, into json.Number, so
// numbers reach the access package as numbers with their exact digits.
func jsonNumbers(v any) any {
	switch v := v.(type) {
	case attributevalue.Number:
		if json.Valid([]byte(v)) {
			return json.Number(v)
		}
	case []attributevalue.Number:
		out := make([]any, len(v))
		for i, n := range v {
			out[i] = jsonNumbers(n)
		}
		return out
	case map[string]any:
		for k, e := range v {
			v[k] = jsonNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = jsonNumbers(e)
		}
	}
	return v
}

// Erase deletes, or anonymizes, every item Find would return, as the
// source's erasure mode says, and reports what it did. In a dry run it only
// reports what it would do.
func (a *Adapter) Erase(ctx context.Context, src *registry.Source, ids map[string][]string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
	items, keyNames, err := a.query(ctx, src, ids)
	if err != nil || len(items) == 0 {
		return erasure.Result{}, err
	}
	switch src.Erasure {
	case registry.EraseDelete:
		return a.delete(ctx, src, ids, items, keyNames, dryRun, j)
	case registry.EraseAnonymize:
		return a.anonymize(ctx, src, ids, items, keyNames, dryRun, j)
	default:
		return erasure.Result{}, apperr.E(apperr.Invalid, "A DynamoDB source's erasure mode changes nothing here.")
	}
}

// delete deletes the subject's items, batch by batch: each batch is written
// down in the journal, its items deleted in parallel, and the deletes made
// marked done. Each delete is conditional on the item still holding the
// subject's value it was found by: an item found through an index may have
// changed hands since, and is then left alone (and not counted).
func (a *Adapter) delete(ctx context.Context, src *registry.Source, ids map[string][]string, items []map[string]types.AttributeValue, keyNames []string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
	var res erasure.Result
	if dryRun {
		for _, item := range items {
			ks, err := keyString(itemKey(item, keyNames))
			if err != nil {
				return erasure.Result{}, err
			}
			res.Touched = append(res.Touched, erasure.Touched{Key: ks, Action: erasure.ActionDeleted})
		}
		res.Records, res.Deleted = len(items), len(items)
		return res, nil
	}
	d := src.DynamoDB
	subject := keyValues(d, ids)
	for start := 0; start < len(items); start += batch {
		chunk := items[start:min(start+batch, len(items))]
		steps := make([]erasure.Step, len(chunk))
		for i, item := range chunk {
			ks, err := keyString(itemKey(item, keyNames))
			if err != nil {
				return erasure.Result{}, err
			}
			steps[i] = erasure.Step{Key: ks, Action: erasure.ActionDeleted, Records: 1}
		}
		if err := erasure.Begin(ctx, j, steps...); err != nil {
			return erasure.Result{}, err
		}
		deleted := make([]bool, len(chunk))
		err := eachParallel(ctx, len(chunk), func(i int) error {
			var err error
			deleted[i], err = a.deleteItem(ctx, d, itemKey(chunk[i], keyNames), chunk[i], subject)
			return err
		})
		var done, dropped []erasure.Step
		for i, ok := range deleted {
			if ok {
				done = append(done, steps[i])
				res.Records++
				res.Deleted++
				res.Touched = append(res.Touched, erasure.Touched{Key: steps[i].Key, Action: erasure.ActionDeleted})
			} else if err == nil {
				dropped = append(dropped, steps[i])
			}
		}
		// What was deleted is marked done even when another delete of the
		// batch failed: the retry then counts only the rest.
		if derr := erasure.Done(ctx, j, done...); derr != nil {
			return erasure.Result{}, derr
		}
		if err != nil {
			return erasure.Result{}, err
		}
		if err := erasure.Drop(ctx, j, dropped...); err != nil {
			return erasure.Result{}, err
		}
	}
	return res, nil
}

// eachParallel runs fn for 0..n-1, at most parallel at a time, and returns
// the first error (after every started call has returned).
func eachParallel(ctx context.Context, n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, parallel)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// deleteItem deletes one item, provided its lookup attribute still holds
// what was read. When it does not, the item is read again: another
// person's now, it is left alone (false); still the subject's, it is
// deleted as it now is; gone, it counts as deleted (true), as Applied
// counts it: the condition also fails when the SDK retries a delete whose
// answer was lost after DynamoDB made it, and either way the subject's
// item is gone.
func (a *Adapter) deleteItem(ctx context.Context, d *registry.DynamoDBSource, key, read map[string]types.AttributeValue, subject []string) (bool, error) {
	for conflicts := 0; ; conflicts++ {
		if read == nil {
			return conflicts > 0, nil
		}
		if !holdsSubject(read, d.PartitionKey, subject) {
			return false, nil
		}
		if conflicts == maxConflicts {
			return false, apperr.E(apperr.Unavailable, "An item kept changing while it was deleted.")
		}
		_, err := a.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(d.Table), Key: key,
			ConditionExpression:       aws.String("#a = :v"),
			ExpressionAttributeNames:  map[string]string{"#a": d.PartitionKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": read[d.PartitionKey]},
		})
		var failed *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return true, nil
		case !errors.As(err, &failed):
			return false, apperr.Wrap(apperr.Unavailable, "A DynamoDB source is unavailable.", err)
		}
		if read, err = a.getItem(ctx, d.Table, key); err != nil {
			return false, err
		}
	}
}

func itemKey(item map[string]types.AttributeValue, keyNames []string) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{}
	for _, name := range keyNames {
		k[name] = item[name]
	}
	return k
}

// maxConflicts bounds how often one item is read again after a concurrent
// write changed it between the read and the anonymizing update.
const maxConflicts = 5

// anonymize removes the listed attributes from each of the subject's items.
// Each update is conditional on the attributes still holding what was read,
// so a concurrent write is never lost: the item is read again and, if it
// still is the subject's, anonymized as it now is.
func (a *Adapter) anonymize(ctx context.Context, src *registry.Source, ids map[string][]string, items []map[string]types.AttributeValue, keyNames []string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
	for _, f := range src.Anonymize {
		if slices.Contains(keyNames, f) {
			return erasure.Result{}, apperr.E(apperr.Invalid, "An attribute to anonymize is part of the table's primary key; use erasure: delete for this source.")
		}
	}
	d := src.DynamoDB
	res := erasure.Result{}
	subject := keyValues(d, ids)
	for _, item := range items {
		key := itemKey(item, keyNames)
		ks, err := keyString(key)
		if err != nil {
			return erasure.Result{}, err
		}
		changed := false
		step := erasure.Step{Key: ks, Action: erasure.ActionAnonymized, Records: 1}
		if !dryRun {
			if err := erasure.Begin(ctx, j, step); err != nil {
				return erasure.Result{}, err
			}
		}
		for conflicts := 0; item != nil && holdsSubject(item, d.PartitionKey, subject); conflicts++ {
			if conflicts == maxConflicts {
				return erasure.Result{}, apperr.E(apperr.Unavailable, "An item kept changing while it was anonymized.")
			}
			if dryRun {
				changed = true
				break
			}
			ok, err := a.removeAttributes(ctx, d.Table, key, item, src.Anonymize)
			if err != nil {
				return erasure.Result{}, err
			}
			if ok {
				changed = true
				break
			}
			if item, err = a.getItem(ctx, d.Table, key); err != nil {
				return erasure.Result{}, err
			}
			// The condition also fails when the SDK retries an update whose
			// answer was lost after DynamoDB made it: an item left without
			// any of the attributes is anonymized, as Applied counts it.
			if item != nil && !slices.ContainsFunc(src.Anonymize, func(f string) bool { _, ok := item[f]; return ok }) {
				changed = true
				break
			}
		}
		if changed {
			res.Records++
			res.Anonymized++
			res.Touched = append(res.Touched, erasure.Touched{Key: ks, Action: erasure.ActionAnonymized})
		}
		if dryRun {
			continue
		}
		mark := erasure.Drop
		if changed {
			mark = erasure.Done
		}
		if err := mark(ctx, j, step); err != nil {
			return erasure.Result{}, err
		}
	}
	return res, nil
}

// Applied reports whether a change that erasure began but did not mark done
// was made: a deleted item is gone; an anonymized one no longer has any of
// the attributes to remove (or is gone).
func (a *Adapter) Applied(ctx context.Context, src *registry.Source, _ map[string][]string, s erasure.Step) (bool, error) {
	ts, err := a.tableSchema(ctx, src.DynamoDB.Table)
	if err != nil {
		return false, err
	}
	key, err := ts.keyOf(s.Key)
	if err != nil {
		return false, err
	}
	item, err := a.getItem(ctx, src.DynamoDB.Table, key)
	if err != nil || item == nil {
		return item == nil && err == nil, err
	}
	if s.Action != erasure.ActionAnonymized {
		return false, nil
	}
	for _, f := range src.Anonymize {
		if _, ok := item[f]; ok {
			return false, nil
		}
	}
	return true, nil
}

// holdsSubject reports whether the item's lookup attribute holds one of the
// subject's values: an item read from an index may be stale, and an item
// read again may have changed hands.
func holdsSubject(item map[string]types.AttributeValue, attr string, values []string) bool {
	switch v := item[attr].(type) {
	case *types.AttributeValueMemberS:
		return slices.Contains(values, v.Value)
	case *types.AttributeValueMemberN:
		return slices.ContainsFunc(values, func(s string) bool { return sameNumber(v.Value, s) })
	case *types.AttributeValueMemberB:
		return slices.Contains(values, string(v.Value))
	}
	return false
}

// keyValues are the partition key values that hold the subject's values of
// the source's identity.
func keyValues(d *registry.DynamoDBSource, ids map[string][]string) []string {
	values := make([]string, len(ids[d.Identity]))
	for i, v := range ids[d.Identity] {
		values[i] = d.KeyValue(v)
	}
	return values
}

// sameNumber compares numbers by value: DynamoDB stores 42 for 42.0.
func sameNumber(a, b string) bool {
	if !isNumber(a) || !isNumber(b) {
		return false // and no huge exponent reaches big.Rat
	}
	x, okx := new(big.Rat).SetString(a)
	y, oky := new(big.Rat).SetString(b)
	return okx && oky && x.Cmp(y) == 0
}

// removeAttributes removes fields from the item at key, provided every one
// of them still holds what was read (or is still absent). It reports false
// when a concurrent write changed them.
func (a *Adapter) removeAttributes(ctx context.Context, table string, key, read map[string]types.AttributeValue, fields []string) (bool, error) {
	g := unchanged(read, fields)
	var remove []string
	for i, f := range fields {
		if _, ok := read[f]; ok {
			remove = append(remove, g.name(i))
		}
	}
	if len(remove) == 0 {
		return true, nil
	}
	return a.conditionalUpdate(ctx, g.update(table, key, "REMOVE "+strings.Join(remove, ", ")))
}

// guard is an update's condition that attributes still hold what was read:
// each field is named #f<i> (its position in fields), its value read :o<i>,
// or it must still be absent.
type guard struct {
	names  map[string]string
	values map[string]types.AttributeValue
	cond   []string
}

func unchanged(read map[string]types.AttributeValue, fields []string) guard {
	g := guard{names: map[string]string{}, values: map[string]types.AttributeValue{}}
	for i, f := range fields {
		n := g.name(i)
		g.names[n] = f
		if v, ok := read[f]; ok {
			g.values[fmt.Sprintf(":o%d", i)] = v
			g.cond = append(g.cond, fmt.Sprintf("%s = :o%d", n, i))
		} else {
			g.cond = append(g.cond, "attribute_not_exists("+n+")")
		}
	}
	return g
}

func (g guard) name(i int) string { return fmt.Sprintf("#f%d", i) }

// update is the conditional UpdateItem of expression on the item at key.
func (g guard) update(table string, key map[string]types.AttributeValue, expression string) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          aws.String(expression),
		ConditionExpression:       aws.String(strings.Join(g.cond, " AND ")),
		ExpressionAttributeNames:  g.names,
		ExpressionAttributeValues: g.values,
	}
}

// conditionalUpdate runs an update whose condition guards against a
// concurrent write: false, not an error, when the condition failed and the
// item must be read again.
func (a *Adapter) conditionalUpdate(ctx context.Context, in *dynamodb.UpdateItemInput) (bool, error) {
	_, err := a.api.UpdateItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, nil
	}
	if err != nil {
		return false, apperr.Wrap(apperr.Unavailable, "A DynamoDB source is unavailable.", err)
	}
	return true, nil
}

// getItem reads an item by key, consistently; nil when it is gone.
func (a *Adapter) getItem(ctx context.Context, table string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := a.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "A DynamoDB source is unavailable.", err)
	}
	return out.Item, nil
}

// query returns the raw items of the subject and the table's key attribute
// names. An item reached by two identity values is returned once.
func (a *Adapter) query(ctx context.Context, src *registry.Source, ids map[string][]string) ([]map[string]types.AttributeValue, []string, error) {
	d := src.DynamoDB
	ts, sortValue, err := a.prepare(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	var items []map[string]types.AttributeValue
	seen := map[string]bool{}
	add := func(item map[string]types.AttributeValue) error {
		id, err := keyString(itemKey(item, ts.keys))
		if err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			items = append(items, item)
		}
		return nil
	}
	for _, value := range ids[d.Identity] {
		v, ok := ts.value(d.PartitionKey, d.KeyValue(value))
		if !ok {
			continue // a value that is not a number matches no number
		}
		if d.GetItem() {
			key := map[string]types.AttributeValue{d.PartitionKey: v}
			if d.SortKey != nil {
				key[d.SortKey.Attribute] = sortValue
			}
			item, err := a.getItem(ctx, d.Table, key)
			if err != nil {
				return nil, nil, err
			}
			if item != nil {
				if err := add(item); err != nil {
					return nil, nil, err
				}
			}
			continue
		}
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(d.Table),
			KeyConditionExpression:    aws.String("#k = :v"),
			ExpressionAttributeNames:  map[string]string{"#k": d.PartitionKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": v},
		}
		if k := d.SortKey; k != nil {
			cond := " AND #s = :s"
			if k.BeginsWith != "" {
				cond = " AND begins_with(#s, :s)"
			}
			*in.KeyConditionExpression += cond
			in.ExpressionAttributeNames["#s"] = k.Attribute
			in.ExpressionAttributeValues[":s"] = sortValue
		}
		if d.Index != "" {
			in.IndexName = aws.String(d.Index)
		}
		p := dynamodb.NewQueryPaginator(a.api, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, apperr.Wrap(apperr.Unavailable, "A DynamoDB source is unavailable.", err)
			}
			for _, item := range page.Items {
				if err := add(item); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return items, ts.keys, nil
}

// keyString identifies an item by its primary key values: the key as JSON,
// with the attribute names sorted.
func keyString(k map[string]types.AttributeValue) (string, error) {
	var m map[string]any
	// Numbers as their digits: as float64, 64-bit ids would collide.
	if err := attributevalue.UnmarshalMapWithOptions(k, &m, func(o *attributevalue.DecoderOptions) { o.UseNumber = true }); err != nil {
		return "", apperr.Wrap(apperr.Internal, "An item key could not be decoded.", err)
	}
	b, err := json.Marshal(m) // map keys are sorted: the same key gives the same string
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "An item key could not be encoded.", err)
	}
	return string(b), nil
}

// keyOf turns a key string (keyString) back into the item's key, each
// attribute typed as the table types it.
func (s schema) keyOf(ks string) (map[string]types.AttributeValue, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(ks))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, apperr.Wrap(apperr.Internal, "A journal's item key could not be read.", err)
	}
	key := map[string]types.AttributeValue{}
	for _, name := range s.keys {
		switch v := m[name].(type) {
		case json.Number:
			key[name] = &types.AttributeValueMemberN{Value: v.String()}
		case string:
			if s.types[name] == types.ScalarAttributeTypeB {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					return nil, apperr.Wrap(apperr.Internal, "A journal's item key could not be read.", err)
				}
				key[name] = &types.AttributeValueMemberB{Value: b}
				continue
			}
			key[name] = &types.AttributeValueMemberS{Value: v}
		default:
			return nil, apperr.E(apperr.Internal, "A journal's item key does not fit the table.")
		}
	}
	return key, nil
}

// schema is what the adapter needs to know of a table: its key attribute
// names (partition key first) and the types of the key attributes of the
// table and its indexes.
type schema struct {
	keys    []string
	indexes map[string][]string // index name -> its key attribute names
	types   map[string]types.ScalarAttributeType
}

// fits checks the source's lookup against the table's key schema before
// DynamoDB would refuse it: a mistake in the registry is an error for an
// operator to mend, not an outage to retry.
func (s schema) fits(d *registry.DynamoDBSource) error {
	keys := s.keys
	if d.Index != "" {
		var ok bool
		if keys, ok = s.indexes[d.Index]; !ok {
			return apperr.E(apperr.Invalid, "A DynamoDB source names an index the table does not have.")
		}
	}
	named := []string{d.PartitionKey}
	if d.SortKey != nil {
		named = append(named, d.SortKey.Attribute)
	}
	switch {
	case d.GetItem() && !slices.Equal(keys, named):
		return apperr.E(apperr.Invalid, "A get_item source must name the table's whole primary key: its partition key and, if it has one, its sort key.")
	case len(keys) == 0 || keys[0] != d.PartitionKey:
		return apperr.E(apperr.Invalid, "A DynamoDB source's partition_key is not the partition key of the table or index it queries.")
	case d.SortKey != nil && (len(keys) < 2 || keys[1] != d.SortKey.Attribute):
		return apperr.E(apperr.Invalid, "A DynamoDB source's sort_key is not the sort key of the table or index it queries.")
	case d.Templated() && s.types[d.PartitionKey] != types.ScalarAttributeTypeS:
		return apperr.E(apperr.Invalid, "A DynamoDB source's partition_value holds text: its partition key must be a string.")
	case d.SortKey != nil && d.SortKey.BeginsWith != "" && s.types[d.SortKey.Attribute] == types.ScalarAttributeTypeN:
		return apperr.E(apperr.Invalid, "A DynamoDB source's sort key is a number: begins_with needs a string.")
	}
	return nil
}

// value types an identity or registry value as the key attribute is typed:
// false when it cannot be one (a number attribute and a value that is not a
// number), so it matches nothing.
func (s schema) value(attr, v string) (types.AttributeValue, bool) {
	switch s.types[attr] {
	case types.ScalarAttributeTypeN:
		if !isNumber(v) {
			return nil, false
		}
		return &types.AttributeValueMemberN{Value: v}, true
	case types.ScalarAttributeTypeB:
		return &types.AttributeValueMemberB{Value: []byte(v)}, true
	default:
		return &types.AttributeValueMemberS{Value: v}, true
	}
}

// numberPattern is a decimal number (the exponent has at most three digits:
// DynamoDB's magnitudes run from 1E-130 to below 1E126).
var numberPattern = regexp.MustCompile(`^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?$`)

// isNumber reports whether v is a number DynamoDB stores: at most 38
// significant digits, zero or a magnitude from 1E-130 to below 1E126.
// Anything else cannot be a number attribute's value, so matches nothing.
func isNumber(v string) bool {
	if len(v) > 64 || !numberPattern.MatchString(v) {
		return false
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(strings.TrimLeft(v, "+-")), "e")
	digits := strings.Trim(strings.Replace(mantissa, ".", "", 1), "0")
	if len(digits) > 38 {
		return false
	}
	f, _, err := big.ParseFloat(v, 10, 200, big.ToNearestEven)
	if err != nil {
		return false
	}
	abs := new(big.Float).Abs(f)
	return abs.Sign() == 0 || (abs.Cmp(minNumber) >= 0 && abs.Cmp(maxNumber) < 0)
}

var (
	minNumber, _, _ = big.ParseFloat("1e-130", 10, 200, big.ToNearestEven)
	maxNumber, _, _ = big.ParseFloat("1e126", 10, 200, big.ToNearestEven)
)

// keyNames lists a key schema's attributes, partition key first.
func keyNames(schema []types.KeySchemaElement) []string {
	var names []string
	for _, k := range schema {
		if k.KeyType == types.KeyTypeHash {
			names = append([]string{aws.ToString(k.AttributeName)}, names...)
		} else {
			names = append(names, aws.ToString(k.AttributeName))
		}
	}
	return names
}

// tableSchema describes the table, asked once per table for the life of
// the adapter (a warm Lambda keeps it).
func (a *Adapter) tableSchema(ctx context.Context, table string) (schema, error) {
	if s, ok := a.schemas.Load(table); ok {
		return s.(schema), nil
	}
	out, err := a.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return schema{}, apperr.Wrap(apperr.Unavailable, "A DynamoDB source is unavailable.", err)
	}
	s := schema{keys: keyNames(out.Table.KeySchema), indexes: map[string][]string{}, types: map[string]types.ScalarAttributeType{}}
	for _, ix := range out.Table.GlobalSecondaryIndexes {
		s.indexes[aws.ToString(ix.IndexName)] = keyNames(ix.KeySchema)
	}
	for _, ix := range out.Table.LocalSecondaryIndexes {
		s.indexes[aws.ToString(ix.IndexName)] = keyNames(ix.KeySchema)
	}
	for _, def := range out.Table.AttributeDefinitions {
		s.types[aws.ToString(def.AttributeName)] = def.AttributeType
	}
	a.schemas.Store(table, s)
	return s, nil
}
