package batch

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Columns are Go-owned Arrow buffers that grow by appending and shrink by
// truncating (a file that fails verification after its records were
// appended is cut off again). DuckDB reads them in place through Arrow's C
// data interface: nothing is copied between parsing and the insert.

// bitmap is an Arrow validity or boolean bitmap.
type bitmap struct {
	bits []byte
	n    int
}

func (b *bitmap) add(v bool) {
	if b.n%8 == 0 {
		b.bits = append(b.bits, 0)
	}
	if v {
		b.bits[b.n/8] |= 1 << (b.n % 8)
	}
	b.n++
}

func (b *bitmap) truncate(n int) {
	b.n = n
	b.bits = b.bits[:(n+7)/8]
	if n%8 != 0 {
		b.bits[n/8] &= byte(1)<<(n%8) - 1
	}
}

func (b *bitmap) set(i int, v bool) {
	if v {
		b.bits[i/8] |= 1 << (i % 8)
	} else {
		b.bits[i/8] &^= 1 << (i % 8)
	}
}

// nulls counts the unset bits, Arrow's null count for a validity bitmap.
func (b *bitmap) nulls() int {
	set := 0
	for i := range b.n {
		if b.bits[i/8]&(1<<(i%8)) != 0 {
			set++
		}
	}
	return b.n - set
}

func (b *bitmap) buffer() *memory.Buffer { return memory.NewBufferBytes(b.bits) }

// texts is a VARCHAR (or JSON) column.
type texts struct {
	off   []int32
	data  []byte
	valid bitmap
}

func (c *texts) add(v []byte, ok bool) {
	if len(c.off) == 0 {
		c.off = append(c.off, 0)
	}
	if ok {
		c.data = append(c.data, v...)
	}
	c.off = append(c.off, int32(len(c.data))) //nolint:gosec // batches stay far below 2 GB (maxBatchBytes)
	c.valid.add(ok)
}

func (c *texts) truncate(n int) {
	if len(c.off) == 0 {
		return
	}
	c.off = c.off[:n+1]
	c.data = c.data[:c.off[n]]
	c.valid.truncate(n)
}

func (c *texts) bytes() int { return len(c.data) + 4*len(c.off) }

func (c *texts) array(t arrow.DataType) arrow.ArrayData {
	if len(c.off) == 0 {
		c.off = append(c.off, 0)
	}
	return array.NewData(t, c.valid.n, []*memory.Buffer{c.valid.buffer(), memory.NewBufferBytes(int32Bytes(c.off)),
		memory.NewBufferBytes(c.data)}, nil, c.valid.nulls(), 0)
}

// fixed is a column of 64-bit (TIMESTAMP) or 32-bit (DATE, INTEGER) values.
type fixed[T int64 | int32] struct {
	v     []T
	valid bitmap
}

func (c *fixed[T]) add(v T, ok bool) {
	c.v = append(c.v, v)
	c.valid.add(ok)
}

func (c *fixed[T]) truncate(n int) { c.v = c.v[:n]; c.valid.truncate(n) }

func (c *fixed[T]) array(t arrow.DataType) arrow.ArrayData {
	var raw []byte
	if len(c.v) > 0 {
		// Arrow wants the values' bytes; the slice stays owned by c.
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&c.v[0])), len(c.v)*int(unsafe.Sizeof(c.v[0]))) //nolint:gosec // G103: a view of c.v, which outlives it
	}
	return array.NewData(t, c.valid.n, []*memory.Buffer{c.valid.buffer(), memory.NewBufferBytes(raw)}, nil, c.valid.nulls(), 0)
}

// flags is a BOOLEAN column.
type flags struct{ v, valid bitmap }

func (c *flags) add(v, ok bool) { c.v.add(v && ok); c.valid.add(ok) }

func (c *flags) truncate(n int) { c.v.truncate(n); c.valid.truncate(n) }

func (c *flags) array() arrow.ArrayData {
	return array.NewData(arrow.FixedWidthTypes.Boolean, c.valid.n, []*memory.Buffer{c.valid.buffer(), c.v.buffer()},
		nil, c.valid.nulls(), 0)
}

func int32Bytes(v []int32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4) //nolint:gosec // G103: a view of v, which outlives it
}

func (b *bitmap) get(i int) bool { return b.bits[i/8]&(1<<(i%8)) != 0 }

// value is row r's string and whether it is set.
func (c *texts) value(r int) ([]byte, bool) {
	if !c.valid.get(r) {
		return nil, false
	}
	return c.data[c.off[r]:c.off[r+1]], true
}

// compact keeps the rows whose bit is set in keep, in order.
func (b *bitmap) compact(keep *bitmap) {
	n := 0
	for r := range b.n {
		if keep.get(r) {
			b.set(n, b.get(r))
			n++
		}
	}
	b.truncate(n)
}

func (c *texts) compact(keep *bitmap) {
	if len(c.off) == 0 {
		return
	}
	n, at := 0, int32(0)
	for r := range c.valid.n {
		if !keep.get(r) {
			continue
		}
		lo, hi := c.off[r], c.off[r+1]
		copy(c.data[at:], c.data[lo:hi])
		c.off[n] = at
		at += hi - lo
		n++
	}
	c.off[n] = at
	c.off = c.off[:n+1]
	c.data = c.data[:at]
	c.valid.compact(keep)
}

func (c *fixed[T]) compact(keep *bitmap) {
	n := 0
	for r := range c.v {
		if keep.get(r) {
			c.v[n] = c.v[r]
			n++
		}
	}
	c.v = c.v[:n]
	c.valid.compact(keep)
}

func (c *flags) compact(keep *bitmap) { c.v.compact(keep); c.valid.compact(keep) }
