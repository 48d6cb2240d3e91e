package main

import (
	"github.com/privacy-pipeline/dsr/internal/bench"
	"github.com/privacy-pipeline/dsr/internal/inbound/letters"
)

// classification reads every letter of the corpus as the inbound function
// does and reports how many the rules read as an operator does:
//
//   - classification_letters: letters in the corpus;
//   - classification_accuracy: letters read right in every respect (the
//     requests or the operator's reason, language, law, corrections);
//   - classification_type_accuracy, _language_accuracy, _law_accuracy:
//     each respect alone;
//   - classification_to_operator: letters left to an operator, and
//     classification_to_operator_expected: those the corpus says need one.
func classification(report func(bench.Figure)) error {
	ls, err := letters.Load()
	if err != nil {
		return err
	}
	s, err := letters.Evaluate(ls)
	if err != nil {
		return err
	}
	n := float64(s.Letters)
	report(bench.Figure{Name: "classification_letters", Value: n, Unit: "letters"})
	report(bench.Figure{Name: "classification_accuracy", Value: letters.Percent(s.Right, s.Letters), Unit: "percent"})
	report(bench.Figure{Name: "classification_type_accuracy", Value: letters.Percent(s.TypesRight, s.Letters), Unit: "percent"})
	report(bench.Figure{Name: "classification_language_accuracy", Value: letters.Percent(s.LanguageRight, s.Letters), Unit: "percent"})
	report(bench.Figure{Name: "classification_law_accuracy", Value: letters.Percent(s.LawRight, s.Letters), Unit: "percent"})
	report(bench.Figure{Name: "classification_to_operator", Value: float64(s.ToOperator), Unit: "letters"})
	report(bench.Figure{Name: "classification_to_operator_expected", Value: float64(s.ExpectedToOperator), Unit: "letters"})
	return nil
}
