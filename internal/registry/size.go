package registry

import (
	"fmt"
	"strconv"
	"strings"
)

// Size is how much an S3 source holds: its bytes ("250 GB", "1.5 TiB" or
// a number) and its objects. The registry may list it for planning
// (privacyctl estimate); the pipeline never relies on it.
type Size struct {
	Bytes   string `yaml:"bytes"`
	Objects int64  `yaml:"objects"`
}

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}

// ParseBytes reads a size such as "250 GB", "1.5TiB" or "1048576".
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	n, err := strconv.ParseFloat(num, 64)
	mult, ok := sizeUnits[unit]
	if err != nil || !ok || n < 0 || n*mult > 1e18 {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with a unit: KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s)
	}
	return int64(n * mult), nil
}
