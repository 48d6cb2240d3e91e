package clock

import (
	"testing"
	"time"
)

func TestScale(t *testing.T) {
	anchor := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		scale   Scale
		d       time.Duration
		seconds int
		at      time.Time
	}{
		{1, 30 * 24 * time.Hour, 2592000, anchor.Add(30 * 24 * time.Hour)},
		{86400, 30 * 24 * time.Hour, 30, anchor.Add(30 * time.Second)},
		{86400, 36 * time.Hour, 2, anchor.Add(1500 * time.Millisecond)},
		{86400, 864 * time.Millisecond, 1, anchor.Add(10 * time.Microsecond)},
		{0, time.Hour, 3600, anchor.Add(time.Hour)},
	}
	for _, tt := range tests {
		if got := tt.scale.Seconds(tt.d); got != tt.seconds {
			t.Errorf("Scale(%v).Seconds(%v) = %d, want %d", float64(tt.scale), tt.d, got, tt.seconds)
		}
		if got := tt.scale.At(anchor, anchor.Add(tt.d)); !got.Equal(tt.at) {
			t.Errorf("Scale(%v).At(+%v) = %v, want %v", float64(tt.scale), tt.d, got, tt.at)
		}
	}
}
