package result_test

import (
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/result"
)

func TestReadChecksVersion(t *testing.T) {
	cases := map[string]string{
		`{"target":"x"}`:            "not a surge result",
		`{"version":2}`:             "version 2 is newer",
		`not json`:                  "read result",
		`{"version":"one"}`:         "read result",
		`{"version":1,"summary":3}`: "read result",
	}
	for in, want := range cases {
		_, err := result.Read(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%s) = %v, want an error containing %q", in, err, want)
		}
	}
	r, err := result.Read(strings.NewReader(`{"version":1,"summary":{"requests":5}}`))
	if err != nil || r.Summary.Requests != 5 {
		t.Fatalf("Read(valid) = %+v, %v", r, err)
	}
}

func TestMsRoundsToMicroseconds(t *testing.T) {
	if got := result.Ms(1234567); got != 1.235 {
		t.Fatalf("Ms(1.234567ms) = %v, want 1.235", got)
	}
}
