package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// common are the properties every standard type may carry and the stream
// keeps in columns of their own, for breakdowns and for tying an online order
// to a till basket.
type common struct {
	Campaign string `json:"campaign"`
	Store    string `json:"store"`
	OrderID  string `json:"order_id"`
}

// Item is one line of a cart or an order; Price is per unit, in minor units.
type Item struct {
	SKU      string `json:"sku"`
	Name     string `json:"name,omitempty"`
	Quantity int64  `json:"quantity"`
	Price    int64  `json:"price"`
}

type pageProps struct {
	common
	URL      string `json:"url"`
	Path     string `json:"path"`
	Title    string `json:"title"`
	Referrer string `json:"referrer"`
}

type productProps struct {
	common
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Price    *int64 `json:"price"`
	Currency string `json:"currency"`
}

type cartProps struct {
	common
	CartID   string  `json:"cart_id"`
	Currency string  `json:"currency"`
	Total    *int64  `json:"total"`
	Items    *[]Item `json:"items"`
}

type appProps struct {
	common
	AppVersion string `json:"app_version"`
	OS         string `json:"os"`
	OSVersion  string `json:"os_version"`
}

type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func bad(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// standard validates each standard type's properties: unknown fields are
// refused (a misspelt "quantiy" should fail, not vanish), the required ones
// checked, money in integer minor units.
var standard = map[string]func(json.RawMessage) (common, error){
	PageViewed: func(raw json.RawMessage) (common, error) {
		var p pageProps
		if err := strict(raw, &p); err != nil {
			return common{}, err
		}
		if p.URL == "" && p.Path == "" {
			return common{}, bad("url", "page_viewed needs url or path")
		}
		return p.common, nil
	},
	ProductViewed: func(raw json.RawMessage) (common, error) {
		var p productProps
		if err := strict(raw, &p); err != nil {
			return common{}, err
		}
		if p.SKU == "" {
			return common{}, bad("sku", "product_viewed needs sku")
		}
		if p.Price != nil && *p.Price < 0 {
			return common{}, bad("price", "price must not be negative")
		}
		return p.common, nil
	},
	CartUpdated:     cart(true, false),
	CheckoutStarted: cart(false, false),
	OrderPlaced:     cart(false, true),
	AppOpened:       app,
	AppInstalled:    app,
	Identified: func(raw json.RawMessage) (common, error) {
		var p common
		return p, strict(raw, &p)
	},
}

func app(raw json.RawMessage) (common, error) {
	var p appProps
	return p.common, strict(raw, &p)
}

// cart validates cart_updated (items required: the cart as it now is, empty
// when emptied), checkout_started and order_placed (order_id and total
// required).
func cart(needItems, order bool) func(json.RawMessage) (common, error) {
	return func(raw json.RawMessage) (common, error) {
		var p cartProps
		if err := strict(raw, &p); err != nil {
			return common{}, err
		}
		if needItems && p.Items == nil {
			return common{}, bad("items", "items is required (an empty list for an emptied cart)")
		}
		if order && p.OrderID == "" {
			return common{}, bad("order_id", "order_placed needs order_id")
		}
		if order && p.Total == nil {
			return common{}, bad("total", "order_placed needs total, in minor units")
		}
		if p.Total != nil && *p.Total < 0 {
			return common{}, bad("total", "total must not be negative")
		}
		if p.Items != nil {
			for i, it := range *p.Items {
				f := fmt.Sprintf("items[%d]", i)
				switch {
				case it.SKU == "":
					return common{}, bad(f+".sku", "sku is required")
				case it.Quantity <= 0:
					return common{}, bad(f+".quantity", "quantity must be at least 1")
				case it.Price < 0:
					return common{}, bad(f+".price", "price must not be negative (minor units)")
				}
			}
		}
		return p.common, nil
	}
}

// strict decodes a properties object refusing unknown fields.
func strict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		f := jsonField(err)
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return bad(f, "unknown field %q for this type (custom data belongs in a custom type)", f)
		}
		return bad(f, "%s", jsonReason(err))
	}
	return nil
}

// customProperties checks a custom type's properties: any JSON object, its
// campaign, store and order_id kept in columns when they are strings.
func customProperties(raw json.RawMessage) (common, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return common{}, bad("", "properties must be a JSON object")
	}
	var c common
	for k, dst := range map[string]*string{"campaign": &c.Campaign, "store": &c.Store, "order_id": &c.OrderID} {
		if v, ok := m[k]; ok {
			json.Unmarshal(v, dst) // a non-string stays in properties only
		}
	}
	return c, nil
}
