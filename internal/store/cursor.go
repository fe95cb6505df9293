package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// riskCursor is the position after a risk in the ranked order.
type riskCursor struct {
	tierRank int
	nscore   float64
	id       string
}

// encode is the cursor as an opaque string.
func (c riskCursor) encode() string {
	raw := strconv.Itoa(c.tierRank) + "|" + strconv.FormatFloat(c.nscore, 'g', -1, 64) + "|" + c.id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeRiskCursor reads what encode wrote.
func decodeRiskCursor(s string) (riskCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return riskCursor{}, fmt.Errorf("store: bad cursor: %w", err)
	}
	parts := strings.SplitN(string(raw), "|", 3)
	if len(parts) != 3 {
		return riskCursor{}, fmt.Errorf("store: bad cursor")
	}
	t, err1 := strconv.Atoi(parts[0])
	f, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil {
		return riskCursor{}, fmt.Errorf("store: bad cursor")
	}
	return riskCursor{t, f, parts[2]}, nil
}

// pageLimit is a query's page size: 100 when 0, at most 1000.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// encodeSeq and decodeSeq are the feed's cursor.
func encodeSeq(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10)))
}

func decodeSeq(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("store: bad cursor: %w", err)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: bad cursor: %w", err)
	}
	return n, nil
}
