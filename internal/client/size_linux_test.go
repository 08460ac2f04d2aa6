package client

import (
	"testing"
	"unsafe"
)

// Every user on the event loops holds an h1Sender for the whole run: ten
// thousand users and more. Its size is a budget (one of Go's size
// classes); what few runs need lives behind pointers (more, w).
func TestSenderSizeBudget(t *testing.T) {
	if n := unsafe.Sizeof(h1Sender{}); n > 256 {
		t.Fatalf("h1Sender is %d bytes, over its budget of 256: put what few runs need behind a pointer", n)
	}
}
