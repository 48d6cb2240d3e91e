// Package estimate says what one erasure across the registry's sources is
// expected to cost and how long it takes in AWS, from the sizes the
// registry lists, the throughput make bench measures, and AWS's published
// prices. It is for planning: every figure it uses is printed with it.
package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

// Prices are AWS's published on-demand prices in one region, in US
// dollars per unit.
type Prices struct {
	Region string
	// AsOf is when the prices were read from AWS's pricing pages.
	AsOf string
	// Lambda on arm64: per GB-second and per request.
	LambdaGBSecond, LambdaRequest float64
	// S3 Standard: per GET, per PUT (and multipart part) or LIST request.
	S3Get, S3Put, S3List float64
	// Step Functions: per state transition (standard workflows); per
	// request and GB-second of an express workflow (the Distributed Map's
	// per-object children).
	Transition, ExpressRequest, ExpressGBSecond float64
	// DynamoDB on demand: per read and per write request unit.
	DynamoRead, DynamoWrite float64
}

// USEast1 are the prices of us-east-1 (N. Virginia).
var USEast1 = Prices{
	Region: "us-east-1", AsOf: "2026-12",
	LambdaGBSecond: 0.0000133334, LambdaRequest: 0.20 / 1e6,
	S3Get: 0.0004 / 1e3, S3Put: 0.005 / 1e3, S3List: 0.005 / 1e3,
	Transition: 0.025 / 1e3, ExpressRequest: 1.00 / 1e6, ExpressGBSecond: 0.00001667,
	DynamoRead: 0.125 / 1e6, DynamoWrite: 0.625 / 1e6,
}

// Rate is what one CPU core does with a format, in MB/s: find the
// subject's rows (Scan), and erase them from an object that holds some
// (Erase: read, rewrite and write back under a condition).
type Rate struct {
	Scan, Erase float64
	// Measured is false where make bench has no figure of its own for the
	// format and a measured one stands in for it.
	Measured bool
}

// Rates are make bench's figures per core (scan_<format>_per_core,
// erase_*_object) on a shared 2-core AMD EPYC; gzip and the CSV and JSON
// erasures are not measured, and the JSON Lines erase rate, the slowest
// measured text figure, stands in.
var Rates = map[string]Rate{
	"jsonl":      {Scan: 850, Erase: 107, Measured: true},
	"csv":        {Scan: 645, Erase: 107},
	"json":       {Scan: 350, Erase: 107},
	"jsonl+gzip": {Scan: 192, Erase: 107},
	"csv+gzip":   {Scan: 192, Erase: 107},
	"json+gzip":  {Scan: 192, Erase: 107},
	"parquet":    {Scan: 80, Erase: 19.4, Measured: true},
}

// Deployment is what the stack deploys that the estimate depends on.
type Deployment struct {
	// FunctionMB is each function's memory; Lambda gives a full vCPU at
	// 1,769 MB and a share below it.
	FunctionMB float64
	// Timeout is the longest one invocation may run.
	Timeout time.Duration
	// LargeMinObjects, LargeMinBytes: a source with more objects or bytes
	// is worked object by object in a Distributed Map of MapConcurrency
	// children.
	LargeMinObjects int64
	LargeMinBytes   int64
	MapConcurrency  int
	// SourceConcurrency is how many sources are worked at once.
	SourceConcurrency int
	// StreamMBps caps what one invocation reads from or writes to S3.
	StreamMBps float64
	// PartBytes is the size of a multipart upload's parts.
	PartBytes float64
}

// Stack is the deployment make deploy makes.
var Stack = Deployment{FunctionMB: 512, Timeout: 5 * time.Minute, LargeMinObjects: 1000, LargeMinBytes: 1 << 30, MapConcurrency: 40,
	SourceConcurrency: 4, StreamMBps: 80, PartBytes: 16 << 20}

// Assumptions are what the estimate cannot know from the registry.
type Assumptions struct {
	// Touched is the share of an S3 source's objects that hold the
	// subject and are rewritten (at least one object).
	Touched float64
	// ItemsPerSubject is how many items a DynamoDB source holds per
	// subject.
	ItemsPerSubject int
	// ParquetRead is the share of a Parquet file a scan reads: the footer
	// and the columns the registry matches on.
	ParquetRead float64
}

// Defaults are the assumptions privacyctl estimate starts from.
var Defaults = Assumptions{Touched: 0.01, ItemsPerSubject: 10, ParquetRead: 0.15}

// Source is the estimate for one source.
type Source struct {
	ID, Kind       string
	Bytes          int64 // what the source holds (S3), if the registry says
	Read, Written  float64
	Time           time.Duration // wall time, its objects in parallel
	Cost           float64
	Large          bool
	Note           string // why a figure is missing or what to watch
	Unsized        bool   // an S3 source whose size the registry does not list
	WaitsForOwner  bool   // a manual source: its time is its owner's
	TooLongForOnce bool   // one invocation would outrun the timeout
	invocations    float64
	invocationSecs float64
}

// Estimate is one erasure across every source.
type Estimate struct {
	Sources []Source
	// Time is the wall time: sources SourceConcurrency at a time, the
	// longest ones first.
	Time time.Duration
	Cost float64
	// Overhead is the workflow's own cost per request (the steps around
	// the sources: verification, identities, receipt, mails).
	Overhead float64
}

// vCPU is the share of a core Lambda gives a function of mb megabytes.
func vCPU(mb float64) float64 { return math.Min(mb/1769, 6) }

// Erasure estimates one erasure across reg's sources.
func Erasure(reg *registry.Registry, d Deployment, a Assumptions, p Prices) Estimate {
	var e Estimate
	gb := d.FunctionMB / 1024
	for _, src := range reg.Sources {
		var s Source
		switch {
		case src.DynamoDB != nil:
			s = dynamo(src, a, p)
			s.invocations, s.invocationSecs = 1, 0.2
		case src.S3 != nil:
			s = objects(src, d, a, p)
		case src.Manual != nil:
			// A person's work: the erasure waits until the owner answers.
			s = Source{ID: src.ID, Kind: src.Kind(), Cost: 2 * p.LambdaRequest, WaitsForOwner: true,
				Note: "its owner's answer: the erasure waits for it, up to the extension-notice point"}
		default:
			s = Source{ID: src.ID, Kind: src.Kind(), Note: "not estimated"}
		}
		s.Cost += s.invocations*p.LambdaRequest + s.invocationSecs*gb*p.LambdaGBSecond
		e.Sources = append(e.Sources, s)
		e.Cost += s.Cost
	}
	e.Time = wallTime(e.Sources, d.SourceConcurrency)
	// About 40 state transitions and 15 short invocations per request
	// around the sources (make bench counts the transitions).
	e.Overhead = 40*p.Transition + 15*(p.LambdaRequest+0.2*gb*p.LambdaGBSecond)
	e.Cost += e.Overhead
	return e
}

func dynamo(src *registry.Source, a Assumptions, p Prices) Source {
	items := float64(a.ItemsPerSubject)
	// A query per lookup value (an item read, rounded up), a conditional
	// delete or update per item, and the journal's writes beside each.
	reads, writes := 2+items, 3*items
	return Source{ID: src.ID, Kind: src.Kind(), Time: 500 * time.Millisecond, Cost: reads*p.DynamoRead + writes*p.DynamoWrite,
		Note: fmt.Sprintf("%d items per subject", a.ItemsPerSubject)}
}

func objects(src *registry.Source, d Deployment, a Assumptions, p Prices) Source {
	s := Source{ID: src.ID, Kind: "s3 " + src.S3.Format}
	if src.S3.Templated() {
		// The subject's own folder: listed and deleted, nothing scanned.
		s.Time, s.Cost, s.invocations, s.invocationSecs = time.Second, 2*p.S3List, 1, 1
		s.Note = "the subject's folder is deleted whole"
		return s
	}
	if src.S3.Size == nil {
		s.Unsized, s.Note = true, "no size: add size: {bytes, objects} to the registry"
		return s
	}
	bytes, _ := registry.ParseBytes(src.S3.Size.Bytes)
	n := float64(src.S3.Size.Objects)
	s.Bytes = bytes
	format := src.S3.Format
	if src.S3.Compression != "" {
		format += "+" + src.S3.Compression
	}
	rate := Rates[format]
	if !rate.Measured {
		s.Note = "rates not measured for " + format + ": see estimate.Rates"
	}
	mb := float64(bytes) / 1e6
	read := mb
	gets := n
	if src.S3.Format == registry.FormatParquet {
		read = mb * a.ParquetRead
		gets = n * 3 // the footer's length, the footer, the columns
	}
	touched := math.Max(1, math.Round(n*a.Touched))
	rewritten := mb / n * touched
	cpu := vCPU(d.FunctionMB)
	scanMBps := math.Min(rate.Scan*cpu, d.StreamMBps)
	eraseMBps := math.Min(rate.Erase*cpu, d.StreamMBps/2) // it reads and writes the same bytes
	busy := read/scanMBps + rewritten/eraseMBps           // seconds of invocation time
	s.Read, s.Written = read+rewritten, rewritten
	parts := math.Ceil(rewritten*1e6/d.PartBytes) + 2*touched // parts, plus create and complete
	s.Cost = gets*p.S3Get + touched*p.S3Get + parts*p.S3Put + math.Ceil(n/1000)*p.S3List
	s.invocationSecs = busy
	if int64(n) > d.LargeMinObjects || bytes > d.LargeMinBytes {
		s.Large = true
		// Each object is a child workflow of the Distributed Map, in a
		// find pass and an erase pass over the touched ones.
		children := n + touched
		s.invocations = children
		s.Cost += children*p.ExpressRequest + children*0.5*(64.0/1024)*p.ExpressGBSecond + 10*p.Transition
		perChild := busy / n
		s.Time = time.Duration(math.Max(busy/float64(d.MapConcurrency), perChild) * float64(time.Second))
		s.TooLongForOnce = time.Duration(perChild*float64(time.Second)) > d.Timeout
	} else {
		s.invocations = 2
		s.Time = time.Duration(busy * float64(time.Second))
		s.TooLongForOnce = s.Time > d.Timeout
	}
	if s.TooLongForOnce {
		if s.Note != "" {
			s.Note += "; "
		}
		if s.Large {
			s.Note += "one object is more than one invocation can work within the functions' timeout: split the objects or raise the functions' memory and timeout"
		} else {
			s.Note += "one invocation would outrun the functions' timeout: raise the functions' memory and timeout"
		}
	}
	return s
}

// wallTime runs the sources workers at a time, longest first.
func wallTime(sources []Source, workers int) time.Duration {
	times := make([]time.Duration, 0, len(sources))
	for _, s := range sources {
		times = append(times, s.Time)
	}
	// Longest first onto the least loaded worker.
	slices.SortFunc(times, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	load := make([]time.Duration, max(workers, 1))
	for _, t := range times {
		least := 0
		for i := range load {
			if load[i] < load[least] {
				least = i
			}
		}
		load[least] += t
	}
	var longest time.Duration
	for _, l := range load {
		longest = max(longest, l)
	}
	return longest
}
