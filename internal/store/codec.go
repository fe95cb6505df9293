package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

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

// pack is v as zstd-compressed JSON.
func pack(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode: %w", err)
	}
	coders()
	return zenc.EncodeAll(b, make([]byte, 0, len(b)/4)), nil
}

// unpack decodes what pack wrote into v.
func unpack(b []byte, v any) error {
	coders()
	raw, err := zdec.DecodeAll(b, nil)
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
