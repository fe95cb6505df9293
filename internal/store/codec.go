package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

var (
	zenc     *zstd.Encoder
	zdec     *zstd.Decoder
	zencOnce sync.Once
)

func coders() {
	zencOnce.Do(func() {
		zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(1<<30))
	})
}

// Blobs are JSON compressed, behind one byte naming the compression:
// zstd for large values (documents, inventories), S2 for the small
// per-row ones (risks, findings, workloads), which it packs many times
// faster. Both are deterministic: the same value packs to the same bytes,
// which lets an ingest skip rows that did not change.
const (
	blobZstd = 'z'
	blobS2   = 's'
)

// pack is v as zstd-compressed JSON.
func pack(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode: %w", err)
	}
	coders()
	out := make([]byte, 1, len(b)/4+16)
	out[0] = blobZstd
	return zenc.EncodeAll(b, out), nil
}

// packSmall is v as S2-compressed JSON.
func packSmall(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode: %w", err)
	}
	out := make([]byte, 1+s2.MaxEncodedLen(len(b)))
	out[0] = blobS2
	return out[:1+len(s2.Encode(out[1:], b))], nil
}

// unpack decodes what pack or packSmall wrote into v.
func unpack(b []byte, v any) error {
	if len(b) == 0 {
		return fmt.Errorf("store: empty value")
	}
	var raw []byte
	var err error
	switch b[0] {
	case blobZstd:
		coders()
		raw, err = zdec.DecodeAll(b[1:], nil)
	case blobS2:
		raw, err = s2.Decode(nil, b[1:])
	default:
		err = fmt.Errorf("unknown compression %q", b[0])
	}
	if err != nil {
		return fmt.Errorf("store: decompress: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode: %w", err)
	}
	return nil
}

// jsonText is v as JSON text.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// nanos is t as Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos reverses nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// unpackAll unpacks n values (item(i) gives the packed bytes and where
// to decode them) on every core.
func unpackAll(n int, item func(i int) ([]byte, any)) error {
	workers := min(runtime.GOMAXPROCS(0), 8, n/256+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				b, v := item(i)
				if err := unpack(b, v); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
