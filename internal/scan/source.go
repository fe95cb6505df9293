package scan

import (
	"context"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/result"
)

// ScanSource opens the image src names and scans it. It always returns a
// result: a source that cannot be opened, or a scan that fails or is cut
// off, is a failed result that says what was being scanned and why it
// stopped (the interruption when ctx ended).
func (s *Scanner) ScanSource(ctx context.Context, src image.Source) *result.Image {
	img, err := image.Open(ctx, src)
	if err != nil {
		return result.Incomplete(image.Descriptor{Reference: src.Name()}, result.StatusFailed, InterruptedOr(ctx, err))
	}
	defer img.Close()
	res, err := s.Scan(ctx, img)
	s.Progress.Clear()
	if err != nil {
		return result.Incomplete(img.Descriptor(), result.StatusFailed, InterruptedOr(ctx, err))
	}
	return res
}
