package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// Config sizes a run. MB here and in the figures is 10^6 bytes.
type Config struct {
	ScanBytes   int64 // bytes scanned per throughput figure (cycling over the pool)
	PoolBytes   int64 // distinct generated data per format, held in memory
	ObjectBytes int   // size of one object of the pool
	BigObject   int64 // size of the object streamed for peak RSS
	EraseObject int64 // size of the object erased through the adapter
	MatchEvery  int   // one row in MatchEvery is the subject's
	Subjects    int   // other subjects the rows belong to
	Workers     int   // goroutines of the parallel scan
}

// Default is the configuration of `make bench`.
func Default() Config {
	return Config{
		ScanBytes:   1 << 30,
		PoolBytes:   128 << 20,
		ObjectBytes: 8 << 20,
		BigObject:   1 << 30,
		EraseObject: 2 << 30,
		MatchEvery:  10_000,
		Subjects:    1_000_000,
		Workers:     runtime.GOMAXPROCS(0),
	}
}

// Figure is one measurement, printed as "name value unit".
type Figure struct {
	Name  string
	Value float64
	Unit  string
}

func (f Figure) String() string {
	return f.Name + " " + strconv.FormatFloat(f.Value, 'f', -1, 64) + " " + f.Unit
}

// Run measures and reports each figure as soon as it is known:
//
//   - peak_rss_scan_*: the peak resident set size of the process while it
//     scans one object generated as it is read (never in memory). Read from
//     VmHWM in /proc/self/status, reset before each by writing 5 to
//     /proc/self/clear_refs. These come first, before the pools below take
//     memory.
//   - scan_*_per_core: MB of content scanned per second by one goroutine (and
//     by Workers goroutines, divided by Workers), cycling over a pool of
//     generated objects held in memory, so no generation or I/O is counted.
//     Every scan must find exactly the subject's rows the generator made.
//   - scan_*_per_cpu_second: the same one-goroutine scan per second of CPU
//     time the process used, which other load on the machine does not lower.
//   - rewrite_*: MB per second of input rewritten into memory without the
//     subject's rows, by one goroutine.
//   - peak_rss_erase_* and erase_*: the peak resident set size while one
//     object of cfg.EraseObject bytes, generated as it is read, is erased
//     through the S3 adapter (found, read again, rewritten into a
//     multipart upload that keeps nothing), and the MB of it per second.
//   - the same figures for Parquet (see runParquet), last: its objects are
//     generated before they are read, the large one into a temporary file
//     read by ranges, in row groups of 128 MiB.
func Run(cfg Config, report func(Figure)) error {
	for _, format := range registry.Formats {
		if format == registry.FormatParquet {
			continue // read by ranges, not as a stream: measured apart
		}
		rss, err := peakRSS(cfg, format)
		if err != nil {
			return err
		}
		report(Figure{"peak_rss_scan_" + mbName(cfg.BigObject) + "_" + format + "_object", rss, "MB"})
	}
	// An object four times the size of a Lambda's default disk, erased
	// through the adapter as in a request: streamed, in parts.
	rss, mbs, err := eraseBig(cfg, registry.FormatJSONL, cfg.EraseObject)
	if err != nil {
		return err
	}
	report(Figure{"peak_rss_erase_" + mbName(cfg.EraseObject) + "_jsonl_object", rss, "MB"})
	report(Figure{"erase_" + mbName(cfg.EraseObject) + "_jsonl_object", mbs, "MB/s"})
	type scan struct {
		format, compression string
		name                string
	}
	for _, s := range []scan{
		{"jsonl", "", "jsonl"},
		{"csv", "", "csv"},
		{"json", "", "json_array"},
		{"jsonl", "gzip", "jsonl_gzip"},
	} {
		pool, err := newPool(cfg, s.format, s.compression)
		if err != nil {
			return err
		}
		mbs, cpu, err := pool.scan(cfg.ScanBytes, 1)
		if err != nil {
			return err
		}
		report(Figure{"scan_" + s.name + "_per_core", mbs, "MB/s"})
		report(Figure{"scan_" + s.name + "_per_cpu_second", cpu, "MB/s"})
		if s.compression == "" && s.format != registry.FormatJSON && cfg.Workers > 1 {
			mbs, _, err := pool.scan(cfg.ScanBytes, cfg.Workers)
			if err != nil {
				return err
			}
			report(Figure{fmt.Sprintf("scan_%s_%d_workers_per_core", s.name, cfg.Workers), mbs, "MB/s"})
		}
		if s.compression == "" && s.format != registry.FormatJSON {
			mbs, err := pool.rewrite(cfg.ScanBytes)
			if err != nil {
				return err
			}
			report(Figure{"rewrite_" + s.name, mbs, "MB/s"})
		}
		runtime.GC()
		debug.FreeOSMemory()
	}
	return runParquet(cfg, report)
}

func mbName(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return strconv.FormatInt(n>>30, 10) + "gib"
	}
	return strconv.FormatInt(n>>20, 10) + "mib"
}

// pool is generated objects of one format, scanned in turn; the figures are
// in MB of content (decompressed, for gzip) per second.
type pool struct {
	src     *registry.S3Source
	objects [][]byte
	sizes   []int64 // content bytes of each object
	matched []int   // the subject's rows in each object
}

func newPool(cfg Config, format, compression string) (*pool, error) {
	p := &pool{src: Source(format, compression)}
	for i := int64(0); i*int64(cfg.ObjectBytes) < cfg.PoolBytes; i++ {
		g := NewGenerator(format, uint64(i+1), cfg.MatchEvery, cfg.Subjects)
		obj := g.Object(cfg.ObjectBytes)
		p.sizes = append(p.sizes, int64(len(obj)))
		p.matched = append(p.matched, g.Matched())
		if compression == registry.CompressionGzip {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			if _, err := zw.Write(obj); err != nil {
				return nil, err
			}
			if err := zw.Close(); err != nil {
				return nil, err
			}
			obj = b.Bytes()
		}
		p.objects = append(p.objects, obj)
	}
	return p, nil
}

// scan scans at least total bytes with workers goroutines and returns MB/s
// per worker, and MB per second of CPU time the process used meanwhile (which
// other processes on a busy machine do not lower). Every scan must find
// exactly the rows generated for the subject.
func (p *pool) scan(total int64, workers int) (float64, float64, error) {
	m := s3src.NewMatcher(p.src, Identities())
	var (
		mu      sync.Mutex
		next    int
		scanned int64
		failure error
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if scanned >= total || failure != nil {
			return 0, false
		}
		i := next % len(p.objects)
		next++
		scanned += p.sizes[i]
		return i, true
	}
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i, ok := take(); ok; i, ok = take() {
				c, err := m.Scan(bytes.NewReader(p.objects[i]), func(map[string]any) error { return nil })
				if err == nil && c.Matched != p.matched[i] {
					err = fmt.Errorf("bench: scan found %d of the subject's %d rows", c.Matched, p.matched[i])
				}
				if err != nil {
					mu.Lock()
					failure = err
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	wall, cpu := time.Since(start), cpuTime()-cpu0
	if failure != nil {
		return 0, 0, failure
	}
	return round(float64(scanned) / 1e6 / wall.Seconds() / float64(workers)), mbPerSecond(scanned, cpu), nil
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rewrite rewrites at least total bytes into memory and returns MB/s of input.
func (p *pool) rewrite(total int64) (float64, error) {
	m := s3src.NewMatcher(p.src, Identities())
	var out bytes.Buffer
	var done int64
	start := time.Now()
	for i := 0; done < total; i = (i + 1) % len(p.objects) {
		out.Reset()
		c, err := m.Rewrite(bytes.NewReader(p.objects[i]), &out)
		if err != nil {
			return 0, err
		}
		// Parquet encodes the rows kept again: its file need not be smaller.
		smaller := p.src.Format == registry.FormatParquet || int64(out.Len()) < p.sizes[i]
		if c.Matched != p.matched[i] || (c.Matched > 0 && !smaller) {
			return 0, fmt.Errorf("bench: rewrite removed %d of the subject's %d rows", c.Matched, p.matched[i])
		}
		done += p.sizes[i]
	}
	return mbPerSecond(done, time.Since(start)), nil
}

func mbPerSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0 // not measurable
	}
	return round(float64(n) / 1e6 / d.Seconds())
}

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// peakRSS scans one object of cfg.BigObject bytes, generated as it is read,
// and returns the process's peak resident set size in MB meanwhile.
func peakRSS(cfg Config, format string) (float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	// Where the kernel refuses the reset, the figure is the peak of the whole
	// run so far: an upper bound (the pools come later).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	g := NewGenerator(format, 42, cfg.MatchEvery, cfg.Subjects)
	m := s3src.NewMatcher(Source(format, ""), Identities())
	c, err := m.Scan(g.Stream(cfg.BigObject), func(map[string]any) error { return nil })
	if err != nil {
		return 0, err
	}
	if c.Matched != g.Matched() {
		return 0, fmt.Errorf("bench: scan found %d of the subject's %d rows", c.Matched, g.Matched())
	}
	kb, err := vmHWM()
	if err != nil {
		return 0, err
	}
	return round(float64(kb) * 1024 / 1e6), nil
}

// vmHWM reads the peak resident set size, in kB, from /proc/self/status.
func vmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("bench: no VmHWM in /proc/self/status")
}

// CPUModel is the model name in /proc/cpuinfo, or "unknown CPU".
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
