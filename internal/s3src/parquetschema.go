package s3src

import (
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// writableSchema is a file's schema as the rewrite writes it: the same
// fields, types, repetitions, codecs and field ids, with each leaf's encoding
// as the library read it from the file, except where the library would
// fail to write with it. It takes a column's encoding from the list in the
// column chunk's metadata, where writers also list RLE and BIT_PACKED for
// the levels: a column of numbers or text "encoded" so is written PLAIN.
func writableSchema(s *parquet.Schema) *parquet.Schema {
	return parquet.NewSchema(s.Name(), wrapNode(s))
}

func wrapNode(n parquet.Node) *writeNode {
	w := &writeNode{Node: n}
	if n.Leaf() {
		w.enc = writableEncoding(n.Encoding(), n.Type().Kind())
		return w
	}
	for _, f := range n.Fields() {
		w.fields = append(w.fields, &writeField{writeNode: wrapNode(f), field: f})
	}
	return w
}

type writeNode struct {
	parquet.Node
	fields []parquet.Field
	enc    encoding.Encoding
}

func (n *writeNode) Fields() []parquet.Field { return n.fields }

func (n *writeNode) Encoding() encoding.Encoding {
	if n.Leaf() {
		return n.enc
	}
	return n.Node.Encoding()
}

type writeField struct {
	*writeNode
	field parquet.Field
}

func (f *writeField) Name() string                           { return f.field.Name() }
func (f *writeField) Value(base reflect.Value) reflect.Value { return f.field.Value(base) }

func writableEncoding(e encoding.Encoding, k parquet.Kind) encoding.Encoding {
	if e == nil {
		return nil
	}
	switch e.Encoding() {
	//lint:ignore SA1019 older writers still write it
	case format.PlainDictionary, format.RLEDictionary:
		return e
	case format.RLE:
		if k == parquet.Boolean {
			return e
		}
		return &parquet.Plain
	case format.BitPacked:
		return &parquet.Plain
	}
	ok := false
	switch k {
	case parquet.Boolean:
		ok = encoding.CanEncodeBoolean(e)
	case parquet.Int32:
		ok = encoding.CanEncodeInt32(e)
	case parquet.Int64:
		ok = encoding.CanEncodeInt64(e)
	case parquet.Int96:
		ok = encoding.CanEncodeInt96(e)
	case parquet.Float:
		ok = encoding.CanEncodeFloat(e)
	case parquet.Double:
		ok = encoding.CanEncodeDouble(e)
	case parquet.ByteArray:
		ok = encoding.CanEncodeByteArray(e)
	case parquet.FixedLenByteArray:
		ok = encoding.CanEncodeFixedLenByteArray(e)
	}
	if ok {
		return e
	}
	return &parquet.Plain
}
