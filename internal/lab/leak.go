package lab

import (
	"net/http"
	"sync"
)

// pageSize is the stride at which /leak writes its memory, so that every
// page is touched and resident.
const pageSize = 4096

// leakState is /leak's global list of retained blocks.
type leakState struct {
	mu     sync.Mutex
	blocks [][]byte
	bytes  int64
}

// leakAnswer is the body of /leak.
type leakAnswer struct {
	RetainedBytes int64 `json:"retained_bytes"`
	Full          bool  `json:"full"`
}

// handleLeak retains kb KiB of freshly allocated, written memory for the
// life of the lab, until Config.LeakMax would be passed; from then on it
// retains nothing and answers with the header "X-Lab-Leak: full".
func (s *Server) handleLeak(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "kb")
	kb := k.int("kb", 64, 0, maxLeakKB)
	if !k.ok(w) {
		return
	}
	size := kb << 10
	l := &s.leak
	l.mu.Lock()
	if l.bytes+size > s.cfg.LeakMax {
		total := l.bytes
		l.mu.Unlock()
		w.Header().Set("X-Lab-Leak", "full")
		writeJSON(w, http.StatusOK, leakAnswer{RetainedBytes: total, Full: true})
		return
	}
	b := make([]byte, size)
	for i := 0; i < len(b); i += pageSize {
		b[i] = byte(len(l.blocks)) | 1
	}
	l.blocks = append(l.blocks, b)
	l.bytes += size
	total := l.bytes
	s.m.leakBytes.Set(float64(total))
	l.mu.Unlock()
	w.Header().Set("X-Lab-Leak", "retained")
	writeJSON(w, http.StatusOK, leakAnswer{RetainedBytes: total})
}
