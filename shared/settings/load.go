package settings

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Defaults sets every field of spec (a pointer to a struct with envconfig
// tags) to its `default` tag, as Process would with an empty environment,
// but without reading the environment: the struct tags stay the one place
// where a default is written, for callers that build a configuration in
// code (the devstack, tests).
func Defaults(spec any) error {
	v := reflect.ValueOf(spec)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("settings: Defaults wants a pointer to a struct, not %T", spec)
	}
	return setDefaults(v.Elem())
}

func setDefaults(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && fv.Kind() == reflect.Struct {
			if err := setDefaults(fv); err != nil {
				return err
			}
			continue
		}
		def, ok := f.Tag.Lookup("default")
		if !ok {
			continue
		}
		if err := setValue(fv, def); err != nil {
			return fmt.Errorf("settings: default of %s: %w", f.Tag.Get("envconfig"), err)
		}
	}
	return nil
}

func setValue(fv reflect.Value, s string) error {
	if fv.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		fv.SetInt(int64(d))
		return err
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		fv.SetBool(b)
		return err
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		fv.SetInt(n)
		return err
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		fv.SetFloat(x)
		return err
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported slice type %s", fv.Type())
		}
		fv.Set(reflect.ValueOf(strings.Split(s, ",")))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}

// Load reads the environment into a new configuration of type T (a struct
// with envconfig tags, whose pointer validates it) and validates it. The
// error is a *VarError naming the variable. Validate runs before the
// configuration is returned, since it may tidy it (trimmed lists).
func Load[T any, PT interface {
	*T
	Validate() error
}]() (T, error) {
	var c T
	if err := Process(PT(&c)); err != nil {
		return c, err
	}
	err := PT(&c).Validate()
	return c, err
}

// DefaultsOf is a configuration of type T with every variable unset (see
// Defaults). A default tag that does not parse is a bug, and panics; each
// service's tests build its defaults.
func DefaultsOf[T any]() T {
	var c T
	if err := Defaults(&c); err != nil {
		panic(err)
	}
	return c
}

// Check is one rule of a configuration: when Bad, variable Var is wrong,
// as Msg says ("must be positive").
type Check struct {
	Var string
	Bad bool
	Msg string
}

// Checks returns the error of the first bad check, a *VarError, or nil.
func Checks(checks []Check) error {
	for _, c := range checks {
		if c.Bad {
			return &VarError{Var: c.Var, Err: errors.New(c.Msg)}
		}
	}
	return nil
}
