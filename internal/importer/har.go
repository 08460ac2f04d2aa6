package importer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// HAROptions choose what of a HAR recording becomes steps.
type HAROptions struct {
	// IncludeHosts keeps only entries for these hosts (host or host:port);
	// empty keeps every host.
	IncludeHosts []string
	// ExcludeHosts drops entries for these hosts.
	ExcludeHosts []string
	// KeepStatic keeps static assets (images, fonts, CSS, JavaScript),
	// which are dropped by default.
	KeepStatic bool
	// NoThink leaves out the pauses between requests.
	NoThink bool
}

// MaxThink caps the pause taken from the gap between two recorded
// requests; pauses are rounded to 100ms.
const MaxThink = 5 * time.Second

// StaticTypes and StaticExtensions say what a static asset is: a response
// MIME type starting with one of StaticTypes, or a URL path ending with one
// of StaticExtensions.
var (
	StaticTypes      = []string{"image/", "font/", "text/css", "text/javascript", "application/javascript", "application/x-javascript", "application/font-", "application/x-font-", "application/vnd.ms-fontobject"}
	StaticExtensions = []string{".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".css", ".js", ".mjs", ".map"}
)

type harFile struct {
	Log *struct {
		Version string     `json:"version"`
		Creator *harNamed  `json:"creator"`
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harNamed struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"` // ms from the start to the end of the response
	Request         struct {
		Method   string   `json:"method"`
		URL      string   `json:"url"`
		Headers  []harNV  `json:"headers"`
		PostData *harPost `json:"postData"`
	} `json:"request"`
	Response struct {
		Status  int `json:"status"`
		Content struct {
			MimeType string `json:"mimeType"`
		} `json:"content"`
	} `json:"response"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPost struct {
	MimeType string  `json:"mimeType"`
	Text     string  `json:"text"`
	Params   []harNV `json:"params"`
	Encoding string  `json:"encoding"` // "base64" in some exporters
}

// HAR imports a HAR 1.2 recording (JSON, as browsers' devtools export it)
// from src, read from the file named file.
func HAR(file string, src []byte, o HAROptions) (*Doc, error) {
	var h harFile
	if err := json.Unmarshal(src, &h); err != nil {
		return nil, jsonError(file, src, err)
	}
	if h.Log == nil {
		return nil, &Error{File: file, Msg: "not a HAR file: it has no log object"}
	}
	d := &Doc{Flow: "har"}
	var (
		urls    []*url.URL
		starts  []time.Time
		ends    []time.Time
		names   = namer{}
		static  int
		other   int
		hostOut int
		errs    []error
		cookies bool
		browser = "a HAR recording"
	)
	if c := h.Log.Creator; c != nil && c.Name != "" {
		browser = strings.TrimSpace(c.Name + " " + c.Version)
	}
	for i, e := range h.Log.Entries {
		fail := func(format string, args ...any) {
			errs = append(errs, &Error{File: file, Msg: fmt.Sprintf("entry %d (%s %s): ", i+1, e.Request.Method, clip(e.Request.URL)) + fmt.Sprintf(format, args...)})
		}
		u, err := url.Parse(e.Request.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !utf8.ValidString(u.Host) {
			other++
			continue
		}
		if !hostWanted(u, o) {
			hostOut++
			continue
		}
		if !o.KeepStatic && isStatic(u, e.Response.Content.MimeType) {
			static++
			continue
		}
		u.Fragment, u.RawFragment = "", ""
		st := &Step{Method: strings.ToUpper(e.Request.Method)}
		if !validToken(st.Method) || st.Method == "CONNECT" {
			fail("method %q cannot be a step", e.Request.Method)
			continue
		}
		var hs []KV
		for _, hv := range e.Request.Headers {
			lk := strings.ToLower(hv.Name)
			switch {
			case strings.HasPrefix(hv.Name, ":"), hopHeaders[lk], lk == "accept-encoding":
				continue
			case !headerName(hv.Name):
				fail("%q is not a header name", clip(hv.Name))
				continue
			case lk == "cookie":
				cookies = true
				continue
			}
			if err := headerText(hv.Name, hv.Value); err != nil {
				fail("%v", err)
				continue
			}
			hs = append(hs, KV{Key: hv.Name, Value: hv.Value})
		}
		st.Headers = mergeHeaders(hs)
		if p := e.Request.PostData; p != nil && (p.Text != "" || len(p.Params) > 0) {
			text := p.Text
			if p.Encoding == "base64" {
				b, err := base64.StdEncoding.DecodeString(text)
				if err != nil {
					fail("postData.text is not valid base64")
					continue
				}
				text = string(b)
			}
			if text == "" && len(p.Params) > 0 {
				var parts []string
				for _, pr := range p.Params {
					parts = append(parts, url.QueryEscape(pr.Name)+"="+url.QueryEscape(pr.Value))
				}
				text = strings.Join(parts, "&")
			}
			ct := p.MimeType
			if ct == "" {
				ct = headerValue(st.Headers, "Content-Type")
			}
			if err := setBody(st, ct, text, false); err != nil {
				fail("%v", err)
				continue
			}
		}
		if s := e.Response.Status; s >= 100 && s <= 599 {
			st.Checks = []string{fmt.Sprintf("status==%d", s)}
		}
		st.Name = names.name("", st.Method, u.Path)
		t, _ := time.Parse(time.RFC3339Nano, e.StartedDateTime)
		d.Steps = append(d.Steps, st)
		urls = append(urls, u)
		starts = append(starts, t)
		ends = append(ends, t.Add(time.Duration(max(e.Time, 0)*float64(time.Millisecond))))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(d.Steps) == 0 {
		return nil, &Error{File: file, Msg: fmt.Sprintf("no request left to import (%d entries: %d static assets, %d not HTTP(S), %d left out by host)", len(h.Log.Entries), static, other, hostOut)}
	}
	d.setBase(urls)
	if !o.NoThink {
		for i := 0; i+1 < len(starts); i++ {
			if starts[i].IsZero() || starts[i+1].IsZero() {
				continue
			}
			gap := starts[i+1].Sub(ends[i]).Round(100 * time.Millisecond)
			d.Steps[i].Think = min(max(gap, 0), MaxThink)
		}
	}
	d.Comments = []string{
		fmt.Sprintf("Imported by surge import har from %s (%s): %s of %d entries.", file, browser, plural(len(d.Steps), "request"), len(h.Log.Entries)),
	}
	var left []string
	if static > 0 {
		left = append(left, plural(static, "static asset"))
	}
	if other > 0 {
		left = append(left, fmt.Sprintf("%d not HTTP(S)", other))
	}
	if hostOut > 0 {
		left = append(left, fmt.Sprintf("%d for other hosts", hostOut))
	}
	if len(left) > 0 {
		d.Comments = append(d.Comments, "Left out: "+strings.Join(left, ", ")+".")
	}
	if cookies {
		d.Comments = append(d.Comments, "Cookie headers are left out: each user's cookie jar keeps the cookies the server sets.")
	}
	if !o.NoThink {
		d.Comments = append(d.Comments, fmt.Sprintf("think: the recorded pause between the end of a response and the next request, rounded to 100ms, at most %v.", MaxThink))
	}
	return d, nil
}

func hostWanted(u *url.URL, o HAROptions) bool {
	match := func(list []string) bool {
		return slices.ContainsFunc(list, func(h string) bool {
			return strings.EqualFold(h, u.Host) || strings.EqualFold(h, u.Hostname())
		})
	}
	if len(o.IncludeHosts) > 0 && !match(o.IncludeHosts) {
		return false
	}
	return !match(o.ExcludeHosts)
}

func isStatic(u *url.URL, mime string) bool {
	mime = strings.ToLower(mime)
	for _, t := range StaticTypes {
		if strings.HasPrefix(mime, t) {
			return true
		}
	}
	return slices.Contains(StaticExtensions, strings.ToLower(path.Ext(u.Path)))
}

func validToken(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// literalStart moves the offset just past a JSON literal (where the
// decoder reports a type error in a string, number or boolean) to just
// past its first byte, so that the error points at its start.
func literalStart(src []byte, off int64) int64 {
	if off <= 0 || off > int64(len(src)) {
		return off
	}
	i := off - 1
	if src[i] == '"' {
		for j := i - 1; j >= 0; j-- {
			if src[j] != '"' {
				continue
			}
			bs := 0
			for k := j - 1; k >= 0 && src[k] == '\\'; k-- {
				bs++
			}
			if bs%2 == 0 {
				return j + 1
			}
		}
		return off
	}
	if bytes.IndexByte([]byte("{["), src[i]) >= 0 {
		return off
	}
	for i > 0 && bytes.IndexByte([]byte(" \t\r\n:,["), src[i-1]) < 0 {
		i--
	}
	return i + 1
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "object"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	default:
		return "number"
	}
}

// jsonError places a JSON decoding error at FILE:LINE:COL.
func jsonError(file string, src []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = se.Offset
		msg = "not valid JSON: " + se.Error()
	case errors.As(err, &te):
		off = literalStart(src, te.Offset)
		msg = fmt.Sprintf("%s: want a JSON %s, got a JSON %s", te.Field, jsonKind(te.Type), te.Value)
	}
	if off < 0 {
		return &Error{File: file, Msg: msg}
	}
	off = min(off, int64(len(src)))
	// the decoder's offset is just past the offending byte
	if off > 0 {
		off--
	}
	line := bytes.Count(src[:off], []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(src[:off], '\n')
	return &Error{File: file, Line: line, Col: col, Msg: msg}
}
