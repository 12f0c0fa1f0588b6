package duckdb

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailwarden/trailwarden/internal/query"
)

// convert maps a value from the driver to query.Rows' vocabulary: nil,
// bool, int64, float64, string, time.Time, and query.JSON for anything
// nested and for every value of a JSON column (which the driver hands
// over decoded). kind is the column's DuckDB type name.
func convert(v any, kind string) any {
	if v != nil && kind == "JSON" {
		// The driver decodes JSON (a JSON string arrives as a Go string
		// without its quotes): encode it back.
		b, err := json.Marshal(jsonable(v))
		if err != nil {
			return fmt.Sprint(v)
		}
		return query.JSON(b)
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string, time.Time:
		return x
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return strconv.FormatUint(x, 10)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Decimal:
		return x.Float64()
	case []byte:
		if kind == "UUID" && len(x) == 16 {
			return uuidString(x)
		}
		return string(x)
	case duckdb.Interval:
		return intervalString(x)
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return query.JSON(b)
}

// nestedType reports whether DuckDB type t holds JSON or a nested value
// (STRUCT, MAP, UNION, LIST, ARRAY), which query results carry as
// query.JSON.
func nestedType(t string) bool {
	return t == "JSON" || strings.HasPrefix(t, "STRUCT") || strings.HasPrefix(t, "MAP") ||
		strings.HasPrefix(t, "UNION") || strings.HasSuffix(t, "]")
}

// jsonable rewrites nested driver values into what encoding/json can
// marshal: maps with non-string keys, times, big numbers, NaN.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(jsonable(k))] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case duckdb.Union:
		return jsonable(x.Value)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return json.Number(x.String())
	case duckdb.Interval:
		return intervalString(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		return jsonable(float64(x))
	}
	return v
}

func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func intervalString(i duckdb.Interval) string {
	return fmt.Sprintf("%d months %d days %s", i.Months, i.Days, time.Duration(i.Micros)*time.Microsecond)
}
