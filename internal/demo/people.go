package demo

import (
	"fmt"

	"github.com/perk-platform/perk/internal/member"
)

var stores = []struct{ id, name, tz string }{
	{"S001", "Perk Market Covent Garden", "Europe/London"},
	{"S002", "Perk Market Manchester", "Europe/London"},
	{"S003", "Perk Express Leeds Station", "Europe/London"},
}

type product struct {
	sku, name string
	cats      []string
	price     int64 // pence
}

var products = []product{
	{"5000001", "Flat white", []string{"coffee", "hot-drinks"}, 320},
	{"5000002", "Croissant", []string{"bakery"}, 185},
	{"5000003", "Sourdough loaf", []string{"bakery"}, 450},
	{"5000004", "Orange juice 1l", []string{"drinks"}, 299},
	{"5000005", "Free-range eggs x6", []string{"dairy-eggs"}, 260},
	{"5000006", "Cheddar 400g", []string{"dairy-eggs", "cheese"}, 425},
	{"5000007", "Bananas x5", []string{"fruit"}, 110},
	{"5000008", "Dark chocolate 100g", []string{"confectionery"}, 199},
}

// Product indexes the scripted baskets use.
const (
	flatWhite   = 0
	croissant   = 1
	orangeJuice = 3
)

// people are the demo's members, in the order they join. Their numbers are
// in Ofcom's drama range (07700 900001 on), which can never reach a real
// phone.
var people = []struct {
	first, last string
	tags        []string
}{
	{"Ann", "Lee", []string{"coffee"}}, {"Bilal", "Khan", nil}, {"Chloé", "Martin", []string{"vip"}},
	{"Dmitri", "Ivanov", nil}, {"Eilidh", "Campbell", []string{"bakery", "vip"}}, {"Femi", "Adeyemi", []string{"coffee"}},
	{"Grace", "O'Neill", nil}, {"Hamza", "Ali", nil}, {"Isla", "Morgan", []string{"bakery"}},
	{"Jakub", "Nowak", nil}, {"Keisha", "Brown", []string{"coffee", "vip"}}, {"Liam", "Walsh", nil},
	{"Maya", "Patel", []string{"bakery"}}, {"Niamh", "Byrne", nil}, {"Oliver", "Smith", []string{"coffee"}},
	{"Priya", "Shah", nil}, {"Quentin", "Dubois", nil}, {"Rosa", "García", []string{"vip"}},
	{"Sam", "Taylor", nil}, {"Tomasz", "Wiśniewski", []string{"coffee"}}, {"Uma", "Reddy", nil},
	{"Victor", "Okafor", []string{"bakery"}}, {"Wen", "Li", nil}, {"Xander", "Hughes", nil},
	{"Yasmin", "Hassan", []string{"coffee"}}, {"Zoe", "Evans", nil}, {"Aled", "Jones", []string{"bakery"}},
	{"Bea", "Fischer", nil}, {"Callum", "Reid", []string{"coffee"}}, {"Dana", "Cohen", nil},
	{"Emre", "Yılmaz", nil}, {"Fatima", "Begum", []string{"vip"}}, {"Gareth", "Price", nil},
	{"Hana", "Sato", []string{"coffee"}}, {"Ivan", "Petrov", nil}, {"Jess", "Cooper", []string{"bakery"}},
}

// enrolChannels are how the members joined, in turn, with the source each
// channel records.
var enrolChannels = []struct {
	ch     member.Channel
	source string
}{
	{member.ChannelWeb, "join page"}, {member.ChannelSMS, "JOIN poster"}, {member.ChannelPOS, "till"},
	{member.ChannelWeb, "join page"}, {member.ChannelAPI, "shop app"}, {member.ChannelImport, "CRM file"},
}

// profile is the i-th person's member profile.
func profile(i int) member.Profile {
	p := people[i]
	return member.Profile{Phone: fmt.Sprintf("07700 900%03d", i+1), FirstName: p.first, LastName: p.last,
		HomeStore: stores[i%len(stores)].id, Tags: p.tags}
}

// consents says whether the i-th person agreed to marketing SMS: every
// ninth did not.
func consents(i int) bool { return i%9 != 8 }
