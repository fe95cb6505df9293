package procscan

import "strconv"

// itoa is strconv.Itoa, short.
func itoa(i int) string { return strconv.Itoa(i) }
