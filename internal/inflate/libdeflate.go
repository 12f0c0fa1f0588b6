//go:build !nolibdeflate

package inflate

/*
#cgo linux LDFLAGS: -l:libdeflate.a
#cgo !linux LDFLAGS: -ldeflate
#include <libdeflate.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

const available = true

// Decompressor holds libdeflate's state (about 32 KB); one goroutine uses
// it at a time.
type Decompressor struct {
	d *C.struct_libdeflate_decompressor
}

// New allocates a Decompressor, freed when it is garbage collected.
func New() *Decompressor {
	z := &Decompressor{d: C.libdeflate_alloc_decompressor()}
	if z.d == nil {
		return nil
	}
	runtime.AddCleanup(z, func(d *C.struct_libdeflate_decompressor) { C.libdeflate_free_decompressor(d) }, z.d)
	return z
}

// Gunzip decompresses src, which must be exactly one gzip member, into
// dst and returns the size written. ok is false when src is anything
// else (corrupt, truncated, followed by more data, or larger than dst),
// and dst's contents are then undefined. libdeflate checks the member's
// CRC-32 and size.
func (z *Decompressor) Gunzip(dst, src []byte) (n int, ok bool) {
	if z == nil || len(src) == 0 {
		return 0, false
	}
	var used, out C.size_t
	// Go memory without Go pointers, held only for the call: allowed by
	// cgo's pointer rules.
	r := C.libdeflate_gzip_decompress_ex(z.d, unsafe.Pointer(unsafe.SliceData(src)), C.size_t(len(src)),
		unsafe.Pointer(unsafe.SliceData(dst)), C.size_t(len(dst)), &used, &out)
	runtime.KeepAlive(src)
	runtime.KeepAlive(dst)
	if r != C.LIBDEFLATE_SUCCESS || int(used) != len(src) {
		return 0, false
	}
	return int(out), true
}
