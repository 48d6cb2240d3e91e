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

// California business days (CCPA Regs §7021(a), §7026(f)): no statute says
// which list of holidays they skip. Gov. Code §6700(a) lists more days than
// state offices close on (CalHR): §6700 has Lincoln Day (12 February),
// Admission Day (9 September), Native American Day (fourth Friday of
// September), Columbus Day (second Monday of October), Juneteenth, Lunar New
// Year and 24 April, on which offices open; offices close on the day after
// Thanksgiving, which §6700 does not list. A day skipped under one reading
// but not the other is counted as a business day here, so the date we give
// is on time under every reading; only the days both agree on are skipped.
//
// Gov. Code §6701 moves 1 January, 12 February, 31 March, 4 July, 9 September,
// 11 November and 25 December from a Sunday to the Monday after, and only 11
// November from a Saturday to the Friday before. There is no general
// Saturday-to-Friday move as for federal employees (5 U.S.C. 6103(b)), so
// Friday 3 July 2026 and Friday 24 December 2027 are business days.
var (
	sundayToMonday           = []cal.AltDay{{Day: time.Sunday, Offset: 1}}
	weekendToNearest         = []cal.AltDay{{Day: time.Saturday, Offset: -1}, {Day: time.Sunday, Offset: 1}}
	caNewYear                = &cal.Holiday{Name: "New Year's Day", Month: time.January, Day: 1, Observed: sundayToMonday, Func: cal.CalcDayOfMonth}
	caCesarChavez            = &cal.Holiday{Name: "Cesar Chavez Day", Month: time.March, Day: 31, Observed: sundayToMonday, Func: cal.CalcDayOfMonth}
	caIndependence           = &cal.Holiday{Name: "Independence Day", Month: time.July, Day: 4, Observed: sundayToMonday, Func: cal.CalcDayOfMonth}
	caVeterans               = &cal.Holiday{Name: "Veterans Day", Month: time.November, Day: 11, Observed: weekendToNearest, Func: cal.CalcDayOfMonth}
	caChristmas              = &cal.Holiday{Name: "Christmas Day", Month: time.December, Day: 25, Observed: sundayToMonday, Func: cal.CalcDayOfMonth}
	californiaAgreedHolidays = []*cal.Holiday{
		caNewYear, us.MlkDay, us.PresidentsDay, caCesarChavez, us.MemorialDay, caIndependence,
		us.LaborDay, caVeterans, us.ThanksgivingDay, caChristmas,
	}
)

// calendars are the holiday calendars a rules file may name.
var calendars = map[string]func() []*cal.Holiday{
	"weekends": func() []*cal.Holiday { return nil },
	"GB-EAW":   func() []*cal.Holiday { return gb.Holidays },
	"NO":       func() []*cal.Holiday { return no.Holidays },
	"CH":       func() []*cal.Holiday { return ch.Holidays },
	"US":       func() []*cal.Holiday { return us.Holidays },
	"US-CA":    func() []*cal.Holiday { return californiaAgreedHolidays },
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
