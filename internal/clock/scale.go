package clock

import (
	"math"
	"time"
)

// Scale compresses statutory time for development and tests: with a factor
// of 86400 a statutory day passes in a second. Workflow waits use scaled
// time; the dates recorded on requests never are. Production uses 1.
type Scale float64

func (s Scale) factor() float64 {
	if s < 1 {
		return 1
	}
	return float64(s)
}

// Seconds is how many workflow seconds the statutory duration d lasts,
// rounded up and never less than one.
func (s Scale) Seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds()/s.factor())))
}

// At is the workflow instant at which statutory instant t arrives, for a
// clock that started at anchor (the request's receipt).
func (s Scale) At(anchor, t time.Time) time.Time {
	return anchor.Add(time.Duration(float64(t.Sub(anchor)) / s.factor())).UTC()
}
