// Package keyword recognises the keyword of an inbound SMS: which of the
// short-code commands (JOIN, STOP, START, HELP, POINTS, OFFERS, CODE, YES) a
// shopper's text asks for, and what they typed after it. It decides what a
// message asks for; it does not act on it.
//
// Inbound texts are messy, so matching works on a normalised form: letters
// upper-cased, Western European accents folded, punctuation, quotes and
// hyphens treated as separators. Operators add aliases in other languages
// with [Table.With].
//
// STOP is treated more generously than the other keywords because carriers
// and regulators (CTIA, Ofcom) require any clear opt-out to be honoured: a
// STOP alias as the first word wins over every other reading of a message.
package keyword
