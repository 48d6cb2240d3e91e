package statute

import (
	"fmt"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/us"
)

// Calendar tells working days from weekends and public holidays.
type Calendar interface {
	IsWorkday(day time.Time) bool
}

// California state holidays beyond the federal ones (Cal. Gov. Code §6700).
// The list is from the statute as we know it (status M in the rules file):
// Lincoln's Birthday, Cesar Chavez Day, Native American Day, the day after
// Thanksgiving; Columbus Day is a federal holiday that §6700 does not keep.
var (
	caLincoln = &cal.Holiday{Name: "Lincoln's Birthday", Type: cal.ObservancePublic, Month: time.February, Day: 12,
		Observed: weekendToMonday, Func: cal.CalcDayOfMonth}
	caChavez = &cal.Holiday{Name: "Cesar Chavez Day", Type: cal.ObservancePublic, Month: time.March, Day: 31,
		Observed: weekendToMonday, Func: cal.CalcDayOfMonth}
	caNativeAmerican = &cal.Holiday{Name: "Native American Day", Type: cal.ObservancePublic, Month: time.September,
		Weekday: time.Friday, Offset: 4, Func: cal.CalcWeekdayOffset}
	caDayAfterThanksgiving = &cal.Holiday{Name: "Day after Thanksgiving", Type: cal.ObservancePublic, Month: time.November,
		Weekday: time.Thursday, Offset: 4, CalcOffset: 1, Func: cal.CalcWeekdayOffset}
	weekendToMonday = []cal.AltDay{{Day: time.Saturday, Offset: -1}, {Day: time.Sunday, Offset: 1}}
)

func californiaHolidays() []*cal.Holiday {
	var hs []*cal.Holiday
	for _, h := range us.Holidays {
		if h != us.ColumbusDay {
			hs = append(hs, h)
		}
	}
	return append(hs, caLincoln, caChavez, caNativeAmerican, caDayAfterThanksgiving)
}

// calendars are the holiday calendars a rules file may name.
var calendars = map[string]func() []*cal.Holiday{
	"weekends": func() []*cal.Holiday { return nil },
	"GB-EAW":   func() []*cal.Holiday { return gb.Holidays },
	"NO":       func() []*cal.Holiday { return no.Holidays },
	"CH":       func() []*cal.Holiday { return ch.Holidays },
	"US":       func() []*cal.Holiday { return us.Holidays },
	"US-CA":    californiaHolidays,
	"BR":       func() []*cal.Holiday { return br.Holidays },
	"CA":       func() []*cal.Holiday { return ca.Holidays },
	// EU-wide rules have no single holiday list: Reg 1182/71 Art 2(1) takes
	// the holidays of the institution's or state's place. Christmas and New
	// Year are common to every member state.
	"EU-common": func() []*cal.Holiday { return []*cal.Holiday{aa.NewYear, aa.ChristmasDay} },
}

// CalendarNames lists the calendars a rules file may name.
func CalendarNames() []string {
	names := make([]string, 0, len(calendars))
	for n := range calendars {
		names = append(names, n)
	}
	return names
}

func newCalendar(name string) (Calendar, error) {
	holidays, ok := calendars[name]
	if !ok {
		return nil, fmt.Errorf("unknown holiday calendar %q", name)
	}
	c := cal.NewBusinessCalendar()
	c.AddHoliday(holidays()...)
	return c, nil
}
