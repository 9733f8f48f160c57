package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Alarm is an activated alarm or a deactivated one from the history.
// DeactivateAt is "infinity" while it is active; Duration is in ms.
type Alarm struct {
	Node         string         `json:"node"`
	Name         string         `json:"name"`
	Message      string         `json:"message"`
	Details      map[string]any `json:"details"`
	Duration     int64          `json:"duration"`
	ActivateAt   string         `json:"activate_at"`
	DeactivateAt string         `json:"deactivate_at"`
}

// Alarms lists the activated alarms (activated true) or the history of
// deactivated ones (false), one page (0 = the default page or limit).
func (c *Client) Alarms(ctx context.Context, activated bool, page, limit int) (Page[Alarm], error) {
	var out Page[Alarm]
	q := url.Values{"activated": {strconv.FormatBool(activated)}}
	_, err := c.Do(ctx, http.MethodGet, "/alarms", pageQuery(q, page, limit), nil, &out)
	return out, err
}

// ClearAlarmHistory removes every deactivated alarm.
func (c *Client) ClearAlarmHistory(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodDelete, "/alarms", nil, nil, nil)
	return err
}
