//go:build nolibdeflate

package inflate

const available = false

// Decompressor stands in for libdeflate's in builds without it.
type Decompressor struct{}

// New returns a Decompressor whose Gunzip always fails.
func New() *Decompressor { return &Decompressor{} }

// Gunzip always reports failure: the caller's streaming reader does the
// work.
func (*Decompressor) Gunzip(_, _ []byte) (int, bool) { return 0, false }
