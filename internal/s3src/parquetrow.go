package s3src

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// A Parquet row is assembled into the same shape a JSON record decodes into
// (map[string]any; numbers as json.Number; lists as []any), so that the match
// rules, the doubts and the access package treat it exactly as a JSON record:
// a top-level column is a field, a struct a nested object, a LIST a JSON
// array, a MAP an object keyed by its keys as text.
//
// Leaves are rendered as JSON has them: text as a string (binary that is not
// UTF-8 as base64), integers and decimals as numbers with their exact digits,
// dates, times and timestamps as ISO 8601 strings, UUIDs in their usual form.

// pqNode is a node of a Parquet schema, with what assembling a row needs.
type pqNode struct {
	name               string
	leaf               bool
	optional, repeated bool
	def, rep           int // the most definition and repetition levels at this node
	first, n           int // the leaf columns under this node: first, and how many
	children           []*pqNode
	kind               nodeKind
	// elem is, for a LIST, the node an element is: the repeated node, or
	// (three levels) its only child.
	elem *pqNode
	// path names the node by field names, for doubts (see fieldName).
	path string
	// render and class, for a leaf.
	render renderer
	class  hitClass
}

type nodeKind uint8

const (
	groupNode nodeKind = iota
	listNode
	mapNode
)

// hitClass says how the prefilter looks at a leaf's values.
type hitClass uint8

const (
	hitNever  hitClass = iota // booleans, dates, times: never an identity
	hitText                   // the bytes as they are (text, binary)
	hitNumber                 // integers, decimals, floats: by value
	hitRender                 // rendered first, then searched as text (UUID)
)

type renderer func(parquet.Value) any

// pqSchema is a file's schema as the matcher reads it.
type pqSchema struct {
	root   *pqNode
	leaves []*pqNode // by leaf column index
}

// errRowShape means a row's levels do not fit its schema: a damaged file.
var errRowShape = errors.New("a row's levels do not fit the schema")

func newPQSchema(root *parquet.Column) (*pqSchema, error) {
	s := &pqSchema{}
	n, err := s.build(root, "", true)
	if err != nil {
		return nil, err
	}
	s.root = n
	return s, nil
}

func (s *pqSchema) build(c *parquet.Column, parent string, root bool) (*pqNode, error) {
	n := &pqNode{name: c.Name(), leaf: c.Leaf(), def: c.MaxDefinitionLevel(), rep: c.MaxRepetitionLevel(), first: len(s.leaves)}
	if !root {
		n.optional, n.repeated = c.Optional(), c.Repeated()
		n.path = join(parent, fieldName(n.name))
	}
	if n.leaf {
		if c.Index() != len(s.leaves) {
			return nil, errors.New("the leaf columns are out of order")
		}
		n.render, n.class = rendererOf(c.Type())
		n.n = 1
		s.leaves = append(s.leaves, n)
		return n, nil
	}
	for _, child := range c.Columns() {
		cn, err := s.build(child, n.path, false)
		if err != nil {
			return nil, err
		}
		n.children = append(n.children, cn)
	}
	n.n = len(s.leaves) - n.first
	if n.n == 0 {
		return nil, errors.New("a group without columns")
	}
	n.kind = kindOf(c, n)
	return n, nil
}

// kindOf recognises LIST and MAP groups, by their annotation and shape; a
// group that is annotated but shaped otherwise is read as a plain group.
func kindOf(c *parquet.Column, n *pqNode) nodeKind {
	lt := c.Type().LogicalType()
	ct := c.Type().ConvertedType()
	isList := lt != nil && isLogical[*format.ListType](lt)
	isMap := lt != nil && isLogical[*format.MapType](lt)
	if ct != nil {
		isList = isList || *ct == 3 // LIST
		isMap = isMap || *ct == 1 || *ct == 2
	}
	if len(n.children) != 1 || !n.children[0].repeated {
		return groupNode
	}
	r := n.children[0]
	switch {
	case isList:
		// The backward-compatibility rules of the Parquet format for lists:
		// a repeated leaf, a repeated group of several fields, or one named
		// "array" or "<list>_tuple" is the element itself; otherwise the
		// repeated group's only field is.
		n.elem = r
		if !r.leaf && len(r.children) == 1 && r.name != "array" && r.name != n.name+"_tuple" {
			n.elem = r.children[0]
		}
		return listNode
	case isMap:
		if r.leaf || len(r.children) < 1 || len(r.children) > 2 || r.children[0].repeated {
			return groupNode
		}
		return mapNode
	}
	return groupNode
}

func isLogical[T any](lt *format.LogicalType) bool {
	_, ok := lt.Value.(T)
	return ok
}

// row assembles one row, given as its values per leaf column.
func (s *pqSchema) row(cols [][]parquet.Value) (map[string]any, error) {
	if len(cols) != len(s.leaves) {
		return nil, errRowShape
	}
	v, err := s.root.instance(cols)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// value is the value of one instance of n (not of its repetitions): vals
// holds, per leaf under n, the values of that instance.
func (n *pqNode) value(vals [][]parquet.Value) (any, error) {
	if len(vals) == 0 || len(vals[0]) == 0 {
		return nil, errRowShape
	}
	if n.optional && vals[0][0].DefinitionLevel() < n.def {
		return nil, nil
	}
	return n.instance(vals)
}

// instance is the value of n when it is present.
func (n *pqNode) instance(vals [][]parquet.Value) (any, error) {
	if len(vals) != n.n || len(vals[0]) == 0 {
		return nil, errRowShape
	}
	if n.leaf {
		v := vals[0][0]
		if v.IsNull() || v.DefinitionLevel() < n.def {
			return nil, nil
		}
		return n.render(v), nil
	}
	switch n.kind {
	case listNode:
		r := n.children[0]
		elems, err := r.split(vals)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(elems))
		for _, ev := range elems {
			var v any
			if n.elem == r {
				v, err = r.instance(ev)
			} else {
				v, err = n.elem.field(ev)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case mapNode:
		r := n.children[0]
		elems, err := r.split(vals)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(elems))
		key := r.children[0]
		for _, ev := range elems {
			k, err := key.value(ev[:key.n])
			if err != nil {
				return nil, err
			}
			var v any
			if len(r.children) == 2 {
				if v, err = r.children[1].field(ev[key.n:]); err != nil {
					return nil, err
				}
			}
			out[keyText(k)] = v
		}
		return out, nil
	}
	out := make(map[string]any, len(n.children))
	for _, c := range n.children {
		v, err := c.field(vals[c.first-n.first : c.first-n.first+c.n])
		if err != nil {
			return nil, err
		}
		out[c.name] = v
	}
	return out, nil
}

// field is the value of a child field: a list of its instances when it is
// repeated, else its value.
func (n *pqNode) field(vals [][]parquet.Value) (any, error) {
	if !n.repeated {
		return n.value(vals)
	}
	elems, err := n.split(vals)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(elems))
	for _, ev := range elems {
		v, err := n.instance(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// split cuts the values of a repeated node, per leaf, into its repetitions:
// a repetition begins where a value's repetition level is the node's own.
// None when the first value's definition level says there are none.
func (n *pqNode) split(vals [][]parquet.Value) ([][][]parquet.Value, error) {
	if len(vals) != n.n || len(vals[0]) == 0 {
		return nil, errRowShape
	}
	if vals[0][0].DefinitionLevel() < n.def {
		for _, col := range vals {
			if len(col) != 1 {
				return nil, errRowShape
			}
		}
		return nil, nil
	}
	var elems [][][]parquet.Value
	for j, col := range vals {
		e := 0
		start := 0
		for k := 1; k <= len(col); k++ {
			if k < len(col) {
				rl := col[k].RepetitionLevel()
				if rl < n.rep {
					return nil, errRowShape
				}
				if rl > n.rep {
					continue
				}
			}
			if j == 0 {
				elems = append(elems, make([][]parquet.Value, len(vals)))
			}
			if e >= len(elems) {
				return nil, errRowShape
			}
			elems[e][j] = col[start:k]
			e++
			start = k
		}
		if e != len(elems) {
			return nil, errRowShape
		}
	}
	return elems, nil
}

// keyText is a map key as the key of a JSON object.
func keyText(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case json.Number:
		return string(k)
	case nil:
		return "null"
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// rendererOf picks how a leaf of type t is rendered and how the prefilter
// looks at it.
func rendererOf(t parquet.Type) (renderer, hitClass) {
	lt := t.LogicalType()
	var ltv format.LogicalTypeValue
	if lt != nil {
		ltv = lt.Value
	}
	switch l := ltv.(type) {
	case *format.DecimalType:
		scale := int(l.Scale)
		return func(v parquet.Value) any { return decimalOf(v, scale) }, hitNumber
	case *format.DateType:
		return func(v parquet.Value) any {
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
		}, hitNever
	case *format.TimeType:
		unit := unitOf(&l.Unit)
		return func(v parquet.Value) any {
			n := v.Int64()
			if t.Kind() == parquet.Int32 {
				n = int64(v.Int32())
			}
			return time.Unix(0, n*int64(unit)).UTC().Format("15:04:05.999999999")
		}, hitNever
	case *format.TimestampType:
		unit, utc := unitOf(&l.Unit), l.IsAdjustedToUTC
		return func(v parquet.Value) any { return timestampText(v.Int64(), unit, utc) }, hitNever
	case *format.IntType:
		if !l.IsSigned {
			return func(v parquet.Value) any {
				if t.Kind() == parquet.Int32 {
					return json.Number(strconv.FormatUint(uint64(v.Uint32()), 10))
				}
				return json.Number(strconv.FormatUint(v.Uint64(), 10))
			}, hitNumber
		}
	case *format.UUIDType:
		return func(v parquet.Value) any { return uuidText(v.ByteArray()) }, hitRender
	case *format.Float16Type:
		return func(v parquet.Value) any { return floatValue(float64(float16(v.ByteArray())), 32) }, hitNumber
	case *format.StringType, *format.EnumType, *format.JsonType:
		return func(v parquet.Value) any { return string(v.ByteArray()) }, hitText
	case *format.BsonType:
		return func(v parquet.Value) any { return base64.StdEncoding.EncodeToString(v.ByteArray()) }, hitNever
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(v parquet.Value) any { return v.Boolean() }, hitNever
	case parquet.Int32:
		return func(v parquet.Value) any { return json.Number(strconv.FormatInt(int64(v.Int32()), 10)) }, hitNumber
	case parquet.Int64:
		return func(v parquet.Value) any { return json.Number(strconv.FormatInt(v.Int64(), 10)) }, hitNumber
	case parquet.Int96:
		return func(v parquet.Value) any { return int96Text(v.Int96()) }, hitNever
	case parquet.Float:
		return func(v parquet.Value) any { return floatValue(float64(v.Float()), 32) }, hitNumber
	case parquet.Double:
		return func(v parquet.Value) any { return floatValue(v.Double(), 64) }, hitNumber
	}
	// Text without an annotation, as older writers (Hive, Spark, Impala)
	// store it; binary that is not UTF-8 as base64.
	return func(v parquet.Value) any {
		b := v.ByteArray()
		if utf8.Valid(b) {
			return string(b)
		}
		return base64.StdEncoding.EncodeToString(b)
	}, hitText
}

func unitOf(u *format.TimeUnit) time.Duration {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return time.Millisecond
	case *format.MicroSeconds:
		return time.Microsecond
	}
	return time.Nanosecond
}

func timestampText(n int64, unit time.Duration, utc bool) string {
	var t time.Time
	switch unit {
	case time.Millisecond:
		t = time.UnixMilli(n)
	case time.Microsecond:
		t = time.UnixMicro(n)
	default:
		t = time.Unix(0, n)
	}
	if utc {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return t.UTC().Format("2006-01-02T15:04:05.999999999") // local time, zone unknown
}

// int96Text renders the legacy INT96 timestamp: nanoseconds of the day,
// then the Julian day.
func int96Text(v [3]uint32) string {
	nanos := int64(uint64(v[1])<<32 | uint64(v[0]))
	days := int64(v[2]) - 2440588
	return time.Unix(days*86400, nanos).UTC().Format(time.RFC3339Nano)
}

// floatValue renders a float as the shortest decimal that reads back as it;
// NaN and the infinities, which JSON has no number for, as text.
func floatValue(f float64, bits int) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return json.Number(strconv.FormatFloat(f, 'f', -1, bits))
}

// decimalOf renders a DECIMAL, stored as an INT32, an INT64 or big-endian
// two's complement bytes, with its scale.
func decimalOf(v parquet.Value, scale int) any {
	var u big.Int
	switch v.Kind() {
	case parquet.Int32:
		u.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		u.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		u.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			u.Sub(&u, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
		}
	}
	if scale <= 0 || scale > 76 {
		return json.Number(u.String())
	}
	digits := new(big.Int).Abs(&u).String()
	for len(digits) <= scale {
		digits = "0" + digits
	}
	s := digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	if u.Sign() < 0 {
		s = "-" + s
	}
	return json.Number(s)
}

func uuidText(b []byte) string {
	if len(b) != 16 {
		return base64.StdEncoding.EncodeToString(b)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// float16 decodes an IEEE 754 half-precision float (little endian).
func float16(b []byte) float32 {
	if len(b) != 2 {
		return float32(math.NaN())
	}
	h := binary.LittleEndian.Uint16(b)
	sign := uint32(h>>15) << 31
	exp := int(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0:
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | frac<<13)
}

// pqNumbers are the subject's values that are numbers, as the prefilter
// compares a Parquet number with them: every rule value that reads as a
// number, whatever the rule's type (a number where a rule wants text is a
// doubt).
type pqNumbers struct {
	ints    []int64
	uints   []uint64
	floats  []float64
	floats4 []float32
	text    []string
}

func (m *Matcher) numbers() pqNumbers {
	var p pqNumbers
	for _, r := range m.rules {
		for _, v := range r.values {
			if !isNumber(v) || containsString(p.text, v) {
				continue
			}
			p.text = append(p.text, v)
			x, ok := new(big.Rat).SetString(v)
			if !ok {
				continue
			}
			if x.IsInt() {
				if n := x.Num(); n.IsInt64() {
					p.ints = append(p.ints, n.Int64())
				}
				if n := x.Num(); n.IsUint64() {
					p.uints = append(p.uints, n.Uint64())
				}
			}
			f, _ := strconv.ParseFloat(v, 64)
			p.floats = append(p.floats, f)
			f4, _ := strconv.ParseFloat(v, 32)
			p.floats4 = append(p.floats4, float32(f4))
		}
	}
	return p
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *pqNumbers) empty() bool { return len(p.text) == 0 }

// hitNumber reports whether a number leaf's value may equal one of the
// subject's numbers. Exact where the type allows; otherwise it renders the
// value and compares it by value.
func (p *pqNumbers) hit(n *pqNode, t parquet.Type, v parquet.Value) bool {
	if lt := t.LogicalType(); lt != nil && lt.Value != nil {
		if it, ok := lt.Value.(*format.IntType); !ok || !it.IsSigned {
			// Decimals, unsigned integers and half floats: by their rendering.
			s, ok := n.render(v).(json.Number)
			if !ok {
				return false
			}
			for _, x := range p.text {
				if sameNumber(string(s), x) {
					return true
				}
			}
			return false
		}
	}
	switch v.Kind() {
	case parquet.Int32:
		x := int64(v.Int32())
		for _, y := range p.ints {
			if x == y {
				return true
			}
		}
	case parquet.Int64:
		x := v.Int64()
		for _, y := range p.ints {
			if x == y {
				return true
			}
		}
	case parquet.Float:
		x := v.Float()
		for _, y := range p.floats4 {
			if x == y {
				return true
			}
		}
	case parquet.Double:
		x := v.Double()
		for _, y := range p.floats {
			if x == y {
				return true
			}
		}
	}
	return false
}

// hitText reports whether b holds one of the matcher's needles within it.
func (m *Matcher) hitText(b, lower []byte) (bool, []byte) {
	return m.holds(b, lower)
}

// renderedText is a rendered value as the prefilter searches it.
func renderedText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	}
	return strings.TrimSpace(fmt.Sprint(v))
}
