package testmodel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// GGUF metadata value types.
const (
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
)

const (
	ggufMagic   = 0x46554747 // "GGUF" read as a little-endian uint32
	ggufVersion = 3
	ggmlTypeF32 = 0
)

// keyValue is one GGUF metadata entry. The value is a uint32, int32,
// float32, bool, string, []string, []float32 or []int32.
type keyValue struct {
	key   string
	value any
}

// WriteGGUF writes the model as a GGUF version 3 file to w. The output is
// the same on every call.
func WriteGGUF(w io.Writer) error {
	v := buildVocab()
	kvs := []keyValue{
		{"general.architecture", "llama"},
		{"general.name", Name},
		{"general.file_type", uint32(0)}, // all F32
		{"llama.context_length", uint32(contextLength)},
		{"llama.embedding_length", uint32(embeddingLength)},
		{"llama.block_count", uint32(1)},
		{"llama.feed_forward_length", uint32(feedForwardLength)},
		{"llama.attention.head_count", uint32(headCount)},
		{"llama.attention.head_count_kv", uint32(headCount)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.rope.dimension_count", uint32(embeddingLength / headCount)},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.vocab_size", uint32(len(v.tokens))},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", v.tokens},
		{"tokenizer.ggml.scores", v.scores},
		{"tokenizer.ggml.token_type", v.types},
		{"tokenizer.ggml.bos_token_id", uint32(bosID)},
		{"tokenizer.ggml.eos_token_id", uint32(eosID)},
		{"tokenizer.ggml.unknown_token_id", uint32(unkID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}
	return encodeGGUF(w, kvs, v.tensors())
}

// encodeGGUF writes a GGUF v3 file: header, metadata, tensor infos, then the
// tensor data, each tensor starting at a multiple of alignment.
func encodeGGUF(w io.Writer, kvs []keyValue, tensors []tensor) error {
	e := &encoder{}
	e.u32(ggufMagic)
	e.u32(ggufVersion)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		e.str(kv.key)
		if err := e.value(kv.value); err != nil {
			return fmt.Errorf("gguf key %s: %w", kv.key, err)
		}
	}
	var offset uint64
	for _, t := range tensors {
		e.str(t.name)
		e.u32(uint32(len(t.ne)))
		for _, d := range t.ne {
			e.u64(d)
		}
		e.u32(ggmlTypeF32)
		e.u64(offset)
		offset += padded(uint64(len(t.data)) * 4)
	}
	e.pad()
	for _, t := range tensors {
		for _, x := range t.data {
			e.u32(math.Float32bits(x))
		}
		e.pad()
	}
	_, err := w.Write(e.buf.Bytes())
	return err
}

func padded(n uint64) uint64 {
	return (n + alignment - 1) / alignment * alignment
}

// encoder appends little-endian GGUF values to a buffer.
type encoder struct {
	buf bytes.Buffer
}

func (e *encoder) u32(x uint32) { e.buf.Write(binary.LittleEndian.AppendUint32(nil, x)) }
func (e *encoder) u64(x uint64) { e.buf.Write(binary.LittleEndian.AppendUint64(nil, x)) }

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.buf.WriteString(s)
}

func (e *encoder) pad() {
	for e.buf.Len()%alignment != 0 {
		e.buf.WriteByte(0)
	}
}

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case uint32:
		e.u32(ggufUint32)
		e.u32(v)
	case int32:
		e.u32(ggufInt32)
		e.u32(uint32(v))
	case float32:
		e.u32(ggufFloat32)
		e.u32(math.Float32bits(v))
	case bool:
		e.u32(ggufBool)
		if v {
			e.buf.WriteByte(1)
		} else {
			e.buf.WriteByte(0)
		}
	case string:
		e.u32(ggufString)
		e.str(v)
	case []string:
		e.u32(ggufArray)
		e.u32(ggufString)
		e.u64(uint64(len(v)))
		for _, s := range v {
			e.str(s)
		}
	case []float32:
		e.u32(ggufArray)
		e.u32(ggufFloat32)
		e.u64(uint64(len(v)))
		for _, x := range v {
			e.u32(math.Float32bits(x))
		}
	case []int32:
		e.u32(ggufArray)
		e.u32(ggufInt32)
		e.u64(uint64(len(v)))
		for _, x := range v {
			e.u32(uint32(x))
		}
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
	return nil
}
