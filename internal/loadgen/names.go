package loadgen

// name is a person's name as the CRM holds it and the ASCII form used to
// build an e-mail address. Addresses stay ASCII so that every good row's
// e-mail passes Perk's check whatever net/mail thinks of UTF-8 local parts.
type name struct{ display, ascii string }

// firstNames and lastNames are small on purpose: the files need realistic
// variety, including non-ASCII letters, apostrophes and a comma that forces
// CSV quoting, not millions of distinct people.
var firstNames = []name{
	{"Oliver", "oliver"}, {"Amelia", "amelia"}, {"George", "george"}, {"Isla", "isla"},
	{"Mohammed", "mohammed"}, {"Priya", "priya"}, {"Zoë", "zoe"}, {"Siân", "sian"},
	{"Łukasz", "lukasz"}, {"José", "jose"}, {"Chloé", "chloe"}, {"Aoife", "aoife"},
	{"Oluwaseun", "oluwaseun"}, {"Harry", "harry"}, {"Émile", "emile"}, {"Grace", "grace"},
	{"Søren", "soren"}, {"Fatima", "fatima"}, {"Dafydd", "dafydd"}, {"Mei", "mei"},
}

var lastNames = []name{
	{"Smith", "smith"}, {"Jones", "jones"}, {"Williams", "williams"}, {"Taylor", "taylor"},
	{"Brown", "brown"}, {"Davies", "davies"}, {"O'Brien", "obrien"}, {"Nowak", "nowak"},
	{"Müller", "muller"}, {"Patel", "patel"}, {"Khan", "khan"}, {"Wiśniewski", "wisniewski"},
	{"García", "garcia"}, {"Ní Bhriain", "nibhriain"}, {"Evans", "evans"}, {"Smith, Jr.", "smith"},
	{"Okafor", "okafor"}, {"Lefèvre", "lefevre"}, {"Chen", "chen"}, {"Hughes-Wright", "hughes-wright"},
}
