package verify

// Mutations of a signature for the sweep (sweep_test.go): each is a
// named, complete signature that differs from a good one in one way.
// The generators do not know which fields matter; they walk every field
// of what they are given (the DER bytes, the decoded CMS structures, the
// log entry's protobuf fields) and change, drop and duplicate each one,
// then re-encode canonically, so that a rule nobody wrote down is found
// the same way as one somebody forgot.

import (
	"bytes"
	"crypto/elliptic"
	"encoding/asn1"
	"fmt"
	"math/big"
	"reflect"

	"github.com/github/smimesign/ietf-cms/protocol"

	"github.com/gitsign-dev/gitsign/internal/cms"
)

// mutation is one changed signature, or one changed object.
type mutation struct {
	name string
	sig  []byte // armored, as git stores it
	raw  []byte // the whole object, for object mutations (sig is nil)
}

// derByteMutations changes the byte at each offset in offsets of the
// signature's DER to each of a few other values, and re-armors it.
func derByteMutations(der []byte, offsets []int, values func(old byte) []byte) []mutation {
	var out []mutation
	for _, i := range offsets {
		for _, b := range values(der[i]) {
			if b == der[i] {
				continue
			}
			m := bytes.Clone(der)
			m[i] = b
			out = append(out, mutation{name: fmt.Sprintf("der: byte %d %#02x->%#02x", i, der[i], b), sig: cms.Armor(m)})
		}
	}
	return out
}

// byteValues are the values the full sweep tries at each offset: each
// bit's neighbours at both ends, one more and one less, and the two
// extremes.
func byteValues(old byte) []byte {
	return []byte{old ^ 0x01, old ^ 0x80, old + 1, old - 1, 0x00, 0xff}
}

// edit is one way to change a value found at a path inside a decoded
// structure: it changes the value in place and returns false if it does
// not apply.
type edit struct {
	name  string
	apply func(v reflect.Value) bool
}

// structEdits walks every field of the struct root points to, and every
// element of every slice in it, and returns, for each, the edits that
// apply: change, drop and duplicate. Each edit is applied to a fresh copy
// (made by fresh) and then encoded by encode; a result that does not
// encode is skipped (it is no signature at all).
func structEdits(prefix string, fresh func() any, encode func(any) ([]byte, error)) []mutation {
	var out []mutation
	var walk func(path []int, name string, t reflect.Value)
	walk = func(path []int, name string, v reflect.Value) {
		for _, e := range editsFor(v) {
			root := fresh()
			target := follow(reflect.ValueOf(root).Elem(), path)
			if !e.apply(target) {
				continue
			}
			if b, err := encode(root); err == nil {
				out = append(out, mutation{name: prefix + name + ": " + e.name, sig: b})
			}
		}
		switch v.Kind() {
		case reflect.Struct:
			if isLeaf(v) {
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(append(path[:len(path):len(path)], i), name+"."+v.Type().Field(i).Name, v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return
			}
			for i := range v.Len() {
				walk(append(path[:len(path):len(path)], i), fmt.Sprintf("%s[%d]", name, i), v.Index(i))
			}
		}
	}
	walk(nil, "", reflect.ValueOf(fresh()).Elem())
	return out
}

// follow returns the value at path below v: struct field indexes and
// slice indexes, alternating as the types say.
func follow(v reflect.Value, path []int) reflect.Value {
	for _, i := range path {
		if v.Kind() == reflect.Struct {
			v = v.Field(i)
		} else {
			v = v.Index(i)
		}
	}
	return v
}

var (
	rawValueType = reflect.TypeOf(asn1.RawValue{})
	oidType      = reflect.TypeOf(asn1.ObjectIdentifier{})
)

// isLeaf reports whether v is a value edited as a whole rather than
// walked: a RawValue (its bytes are changed as bytes).
func isLeaf(v reflect.Value) bool { return v.Type() == rawValueType }

// editsFor returns the edits for a value of v's type.
func editsFor(v reflect.Value) []edit {
	switch {
	case v.Type() == rawValueType:
		return rawValueEdits
	case v.Type() == oidType:
		return oidEdits
	case v.Kind() == reflect.Int:
		return intEdits
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return bytesEdits
	case v.Kind() == reflect.Slice:
		return sliceEdits
	}
	return nil
}

var intEdits = []edit{
	{"+1", func(v reflect.Value) bool { v.SetInt(v.Int() + 1); return true }},
	{"-1", func(v reflect.Value) bool { v.SetInt(v.Int() - 1); return true }},
	{"+2", func(v reflect.Value) bool { v.SetInt(v.Int() + 2); return true }},
	{"0", func(v reflect.Value) bool { old := v.Int(); v.SetInt(0); return old != 0 }},
}

var oidEdits = []edit{
	{"last arc +1", func(v reflect.Value) bool {
		o := slicesClone(v.Interface().(asn1.ObjectIdentifier))
		if len(o) == 0 {
			return false
		}
		o[len(o)-1]++
		v.Set(reflect.ValueOf(o))
		return true
	}},
	{"extra arc", func(v reflect.Value) bool {
		v.Set(reflect.ValueOf(append(slicesClone(v.Interface().(asn1.ObjectIdentifier)), 1)))
		return true
	}},
}

// algorithmOIDs are put in every OBJECT IDENTIFIER field in turn: the
// algorithms a verifier might take for one another.
var algorithmOIDs = map[string]asn1.ObjectIdentifier{
	"sha1":              {1, 3, 14, 3, 2, 26},
	"sha256":            {2, 16, 840, 1, 101, 3, 4, 2, 1},
	"sha384":            {2, 16, 840, 1, 101, 3, 4, 2, 2},
	"sha512":            {2, 16, 840, 1, 101, 3, 4, 2, 3},
	"id-ecPublicKey":    {1, 2, 840, 10045, 2, 1},
	"ecdsa-with-SHA1":   {1, 2, 840, 10045, 4, 1},
	"ecdsa-with-SHA256": {1, 2, 840, 10045, 4, 3, 2},
	"ecdsa-with-SHA384": {1, 2, 840, 10045, 4, 3, 3},
	"ecdsa-with-SHA512": {1, 2, 840, 10045, 4, 3, 4},
	"rsaEncryption":     {1, 2, 840, 113549, 1, 1, 1},
}

func init() {
	for name, o := range algorithmOIDs {
		oidEdits = append(oidEdits, edit{"set to " + name, func(v reflect.Value) bool {
			if v.Interface().(asn1.ObjectIdentifier).Equal(o) {
				return false
			}
			v.Set(reflect.ValueOf(slicesClone(o)))
			return true
		}})
	}
}

func slicesClone(o asn1.ObjectIdentifier) asn1.ObjectIdentifier {
	return append(asn1.ObjectIdentifier(nil), o...)
}

var null = asn1.RawValue{FullBytes: []byte{0x05, 0x00}}

var rawValueEdits = []edit{
	{"drop", func(v reflect.Value) bool {
		if v.Interface().(asn1.RawValue).FullBytes == nil {
			return false
		}
		v.Set(reflect.ValueOf(asn1.RawValue{}))
		return true
	}},
	{"NULL", func(v reflect.Value) bool {
		if bytes.Equal(v.Interface().(asn1.RawValue).FullBytes, null.FullBytes) {
			return false
		}
		v.Set(reflect.ValueOf(null))
		return true
	}},
	{"last byte flipped", func(v reflect.Value) bool {
		rv := v.Interface().(asn1.RawValue)
		if len(rv.FullBytes) < 3 {
			return false
		}
		fb := bytes.Clone(rv.FullBytes)
		fb[len(fb)-1] ^= 1
		v.Set(reflect.ValueOf(asn1.RawValue{FullBytes: fb}))
		return true
	}},
}

var bytesEdits = []edit{
	{"first bit flipped", func(v reflect.Value) bool { return editBytes(v, func(b []byte) []byte { b[0] ^= 0x80; return b }) }},
	{"last bit flipped", func(v reflect.Value) bool { return editBytes(v, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }) }},
	{"a zero byte appended", func(v reflect.Value) bool { return editBytes(v, func(b []byte) []byte { return append(b, 0) }) }},
	{"last byte dropped", func(v reflect.Value) bool { return editBytes(v, func(b []byte) []byte { return b[:len(b)-1] }) }},
	{"emptied", func(v reflect.Value) bool { return editBytes(v, func([]byte) []byte { return nil }) }},
}

func editBytes(v reflect.Value, f func([]byte) []byte) bool {
	if v.Len() == 0 {
		return false
	}
	v.SetBytes(f(bytes.Clone(v.Bytes())))
	return true
}

var sliceEdits = []edit{
	{"emptied", func(v reflect.Value) bool {
		if v.Len() == 0 {
			return false
		}
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return true
	}},
	{"first element duplicated", func(v reflect.Value) bool {
		if v.Len() == 0 {
			return false
		}
		v.Set(reflect.Append(v, v.Index(0)))
		return true
	}},
	{"first element dropped", func(v reflect.Value) bool {
		if v.Len() < 2 {
			return false // "emptied" covers one element
		}
		v.Set(v.Slice(1, v.Len()))
		return true
	}},
}

// signedDataEdits are structEdits of the SignedData in the ContentInfo
// der, re-encoded by encode.
func signedDataEdits(prefix string, der []byte, encode func(*protocol.SignedData) ([]byte, error)) []mutation {
	fresh := func() any {
		ci, err := cms.ContentInfo(der)
		if err != nil {
			panic(err)
		}
		sd, err := ci.SignedDataContent()
		if err != nil {
			panic(err)
		}
		return sd
	}
	return structEdits(prefix, fresh, func(v any) ([]byte, error) { return encode(v.(*protocol.SignedData)) })
}

// twin returns the other valid encoding of an ECDSA signature: (r, n-s)
// for (r, s). The curve is the smallest whose order is longer than both
// numbers; for a genuine signature that is its curve, except with
// negligible probability.
func twin(sig []byte) ([]byte, bool) {
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return nil, false
	}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		n := c.Params().N
		if rs.R.Cmp(n) < 0 && rs.S.Cmp(n) < 0 && max(rs.R.BitLen(), rs.S.BitLen()) > n.BitLen()-64 {
			out, err := asn1.Marshal(struct{ R, S *big.Int }{rs.R, new(big.Int).Sub(n, rs.S)})
			return out, err == nil
		}
	}
	return nil, false
}
