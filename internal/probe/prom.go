package probe

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The standard metrics a prom probe reads.
const (
	metricCPU      = "process_cpu_seconds_total"
	metricRSS      = "process_resident_memory_bytes"
	metricMaxProcs = "go_sched_gomaxprocs_threads" // Go targets: CPUs the runtime uses
)

// prom scrapes a Prometheus text (or OpenMetrics, or protobuf) endpoint.
type prom struct {
	name    string
	url     string
	shown   string // url, password redacted
	client  *http.Client
	metrics []selector
	cores   float64 // from the spec's cores= option, NaN when not given
}

// selector picks series of one metric family by exact label values.
type selector struct {
	raw    string
	name   string
	labels map[string]string
}

var selectorRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?$`)
var labelRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)

func parseSelector(s string) (selector, error) {
	m := selectorRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return selector{}, fmt.Errorf("--probe-metric %q: want NAME or NAME{label=\"value\",…}", s)
	}
	sel := selector{raw: s, name: m[1]}
	if m[3] != "" {
		sel.labels = map[string]string{}
		for _, part := range strings.Split(m[3], ",") {
			lm := labelRE.FindStringSubmatch(part)
			if lm == nil {
				return selector{}, fmt.Errorf("--probe-metric %q: bad label matcher %q (want label=\"value\")", s, part)
			}
			sel.labels[lm[1]] = lm[2]
		}
	}
	return sel, nil
}

func newProm(spec, raw string, metrics []string) (*prom, error) {
	cores := math.NaN()
	if i := strings.LastIndex(raw, ",cores="); i >= 0 {
		v, err := strconv.ParseFloat(raw[i+len(",cores="):], 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			return nil, fmt.Errorf("probe %q: cores= wants a positive number of CPUs, e.g. prom=URL,cores=4", spec)
		}
		raw, cores = raw[:i], v
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("probe %q: want prom=http://host:port/metrics", spec)
	}
	// The URL's password, if any, is sent (as Basic auth, by net/http's
	// client) but never shown: not in the probe's name (a JSON key), not in
	// errors.
	name, shown := spec, raw
	if _, ok := u.User.Password(); ok {
		shown = u.Redacted()
		name = "prom=" + shown
	}
	p := &prom{name: name, url: raw, shown: shown, client: &http.Client{Timeout: 2 * time.Second}, cores: cores}
	for _, m := range metrics {
		sel, err := parseSelector(m)
		if err != nil {
			return nil, err
		}
		p.metrics = append(p.metrics, sel)
	}
	return p, nil
}

func (p *prom) Name() string { return p.name }

func (p *prom) Sample(ctx context.Context) (Sample, error) {
	s := unknown()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return s, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	resp, err := p.client.Do(req)
	if err != nil {
		return s, fmt.Errorf("scrape %s: %w", p.shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return s, fmt.Errorf("scrape %s: status %s", p.shown, resp.Status)
	}
	families, err := decode(resp)
	if err != nil {
		return s, fmt.Errorf("scrape %s: %w", p.shown, err)
	}
	if mf := families[metricCPU]; mf != nil {
		s.CPU = sum(mf, nil)
	}
	if mf := families[metricRSS]; mf != nil {
		s.RSS = sum(mf, nil)
	}
	switch mf := families[metricMaxProcs]; {
	case !math.IsNaN(p.cores):
		s.Cores = p.cores
	case mf != nil:
		s.Cores = sum(mf, nil)
	}
	if len(p.metrics) > 0 {
		s.Metrics = make(map[string]float64, len(p.metrics))
		for _, sel := range p.metrics {
			v := math.NaN()
			if mf := families[sel.name]; mf != nil {
				v = sum(mf, sel.labels)
			}
			s.Metrics[sel.raw] = v
		}
	}
	return s, nil
}

// decode reads every metric family of a scrape, in whichever format the
// server answered.
func decode(resp *http.Response) (map[string]*dto.MetricFamily, error) {
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	out := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, err
		}
		out[mf.GetName()] = mf
	}
}

// sum adds the values of the series of mf whose labels include want.
func sum(mf *dto.MetricFamily, want map[string]string) float64 {
	total, found := 0.0, false
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Summary != nil:
			total += float64(m.Summary.GetSampleCount())
		default:
			continue
		}
		found = true
	}
	if !found {
		return math.NaN()
	}
	return total
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		ok := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
