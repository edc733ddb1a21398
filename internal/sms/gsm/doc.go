// Package gsm encodes SMS text: the GSM 03.38 7-bit default alphabet with its
// extension table, UCS-2, and concatenation into parts with a user data
// header. It knows nothing about SMPP or HTTP.
//
// The reference is 3GPP TS 23.038 (alphabets, packing) and TS 23.040 section
// 9.2.3.24 (user data header, concatenation information elements). National
// language shift tables (TS 23.038 section 6.2.1.2.4) are not supported: a
// text that needs them is sent as UCS-2, which every handset can display.
package gsm
