package statute

import (
	"fmt"
	"slices"
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

// Brazil's national holidays: Lei 662/1949 art 1 as amended (1 January, 21
// April, 1 May, 7 September, 2 November, 15 November, 25 December), Lei
// 6.802/1980 (12 October) and Lei 14.759/2023 (20 November, Dia Nacional de
// Zumbi e da Consciência Negra, from 2024). Carnival is an optional day for
// federal offices (ponto facultativo), not a holiday; Corpus Christi and
// Good Friday are religious holidays each municipality declares (Lei
// 9.093/1995 art 2), so they are working days in a national count.
var (
	brZumbi        = &cal.Holiday{Name: "Dia Nacional de Zumbi e da Consciência Negra", Month: time.November, Day: 20, Func: cal.CalcDayOfMonth, StartYear: 2024}
	brazilHolidays = []*cal.Holiday{
		br.AnoNovo, br.Tiradentes, br.Trabalhador, br.Independencia, br.NossaSenhoraAparecida,
		br.Finados, br.Republica, brZumbi, br.Natal,
	}
)

// Canada: PIPEDA's periods are counted under the federal Interpretation Act,
// whose s.26 moves a period ending on a holiday to the next day that is not
// one, and whose s.35 defines the holidays: Sundays, 1 January, Good Friday,
// Easter Monday, Victoria Day, Canada Day, Labour Day, the National Day for
// Truth and Reconciliation (30 September, from 2021), Thanksgiving,
// Remembrance Day and Christmas Day; 1 January, 1 July and 11 November falling
// on a Sunday make the Monday a holiday too. A Saturday is not a holiday, and
// a province's own days are holidays only in that province: the library's
// "ca" list (a union that includes Civic Holiday and Boxing Day, moving
// Saturdays to Monday) is not the federal calendar. Quebec adds 24 June
// (fête nationale). The list is from our knowledge of s.35 (M in the rules).
var (
	canadaSundayToMonday  = []cal.AltDay{{Day: time.Sunday, Offset: 1}}
	caFedNewYear          = &cal.Holiday{Name: "New Year's Day", Month: time.January, Day: 1, Observed: canadaSundayToMonday, Func: cal.CalcDayOfMonth}
	caFedCanadaDay        = &cal.Holiday{Name: "Canada Day", Month: time.July, Day: 1, Observed: canadaSundayToMonday, Func: cal.CalcDayOfMonth}
	caFedTruth            = &cal.Holiday{Name: "National Day for Truth and Reconciliation", Month: time.September, Day: 30, Func: cal.CalcDayOfMonth, StartYear: 2021}
	caFedRemembrance      = &cal.Holiday{Name: "Remembrance Day", Month: time.November, Day: 11, Observed: canadaSundayToMonday, Func: cal.CalcDayOfMonth}
	caFedChristmas        = &cal.Holiday{Name: "Christmas Day", Month: time.December, Day: 25, Func: cal.CalcDayOfMonth}
	canadaFederalHolidays = []*cal.Holiday{
		caFedNewYear, aa.GoodFriday, aa.EasterMonday, ca.VictoriaDay, caFedCanadaDay, ca.LabourDay,
		caFedTruth, ca.ThanksgivingDay, caFedRemembrance, caFedChristmas,
	}
	quebecFeteNationale = &cal.Holiday{Name: "Fête nationale du Québec", Month: time.June, Day: 24, Func: cal.CalcDayOfMonth}
)

// calendar is a holiday calendar a rules file may name.
type calendar struct {
	holidays []*cal.Holiday
	// saturdayWorks: a Saturday is not a holiday (Canada's Interpretation
	// Act), so a period may end on one.
	saturdayWorks bool
	// cite is where the list of holidays comes from, and status how well it
	// is verified (V, S, M, as for periods): a date counted with the
	// calendar cites it.
	cite, status string
}

// calendars are the holiday calendars a rules file may name.
var calendars = map[string]calendar{
	"weekends": {},
	"GB-EAW": {holidays: gb.Holidays, status: "S",
		cite: "Banking and Financial Dealings Act 1971 Sch 1 and royal proclamations (England and Wales)"},
	"NO": {holidays: no.Holidays, status: "S",
		cite: "Lov om helligdager og helligdagsfred § 2; lov om 1. og 17. mai som høgtidsdager"},
	// The library's list mixes cantonal days with the federal one.
	"CH": {holidays: ch.Holidays, status: "M", cite: "1 August (federal); other days by cantonal law"},
	"US": {holidays: us.Holidays, status: "S", cite: "5 U.S.C. 6103"},
	"US-CA": {holidays: californiaAgreedHolidays, status: "S",
		cite: "Cal. Gov. Code §6700(a), §6701; the state offices' (CalHR) holidays"},
	"BR": {holidays: brazilHolidays, status: "S",
		cite: "Lei 662/1949 art 1 as amended; Lei 6.802/1980; Lei 14.759/2023"},
	"CA": {holidays: canadaFederalHolidays, saturdayWorks: true, status: "M",
		cite: "Interpretation Act (R.S.C. 1985, c. I-21) s.26, s.35"},
	"CA-QC": {holidays: append(slices.Clone(canadaFederalHolidays), quebecFeteNationale), saturdayWorks: true, status: "M",
		cite: "Interpretation Act (R.S.C. 1985, c. I-21) s.35; 24 June (Quebec, CQLR c I-16 s.61)"},
	// EU-wide rules have no single holiday list: Reg 1182/71 Art 2(1) takes
	// the holidays of the institution's or state's place. Christmas and New
	// Year are common to every member state (our knowledge).
	"EU-common": {holidays: []*cal.Holiday{aa.NewYear, aa.ChristmasDay}, status: "M",
		cite: "Reg (EEC, Euratom) 1182/71 Art 2(1): 1 January and 25 December, holidays in every member state"},
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
	def, ok := calendars[name]
	if !ok {
		return nil, fmt.Errorf("unknown holiday calendar %q", name)
	}
	c := cal.NewBusinessCalendar()
	c.SetWorkday(time.Saturday, def.saturdayWorks)
	c.AddHoliday(def.holidays...)
	return c, nil
}
