package scenario

import (
	"testing"
	"unsafe"
)

// Every user of a run holds a User for the whole run: ten thousand users
// and more. Its size is a budget (one of Go's size classes); what few runs
// need lives behind pointers made on first use (jar, more).
func TestUserSizeBudget(t *testing.T) {
	if n := unsafe.Sizeof(User{}); n > 128 {
		t.Fatalf("User is %d bytes, over its budget of 128: put what few runs need behind a pointer", n)
	}
}
