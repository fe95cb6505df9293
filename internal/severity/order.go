package severity

// reported lists, most severe first, the ratings a finding is reported
// with. None is not among them: a finding whose score is 0.0 is reported
// as Low.
var reported = [...]Rating{Critical, High, Medium, Low, Unknown}

// Reported returns the ratings a finding can be reported with, most severe
// first: Critical, High, Medium, Low, Unknown.
func Reported() []Rating {
	return append([]Rating(nil), reported[:]...)
}

// Words returns the words of Reported in the same order: "CRITICAL",
// "HIGH", "MEDIUM", "LOW", "UNKNOWN".
func Words() []string {
	out := make([]string, len(reported))
	for i, r := range reported {
		out[i] = r.String()
	}
	return out
}

// Rank orders the severity words of findings and reports: "CRITICAL" is
// 0, "HIGH" 1, "MEDIUM" 2, "LOW" 3, "UNKNOWN" 4, and any other word
// (including lower-case spellings) len(Words()), after every reported
// rating. Sorting by Rank puts the most severe first.
func Rank(word string) int {
	for i, r := range reported {
		if r.String() == word {
			return i
		}
	}
	return len(reported)
}
