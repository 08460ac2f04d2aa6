package load

import (
	"testing"
	"unsafe"
)

// Every user of a run holds an asyncUser for the whole run: ten thousand
// users and more. Its size is a budget (one of Go's size classes); a
// field that pushes it over costs a megabyte and more at 10 000 users.
func TestAsyncUserSizeBudget(t *testing.T) {
	if n := unsafe.Sizeof(asyncUser{}); n > 128 {
		t.Fatalf("asyncUser is %d bytes, over its budget of 128: put what few runs need behind a pointer", n)
	}
}
