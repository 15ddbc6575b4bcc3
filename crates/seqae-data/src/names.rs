//! Enums with user-facing names: one macro gives each its `name`, `Display` and `FromStr`
//! (with accepted aliases), so that a name parses the same way in the library, the command
//! line and model files.

/// A name that is not one of an enum's names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{name}': expected {expected}")]
pub struct UnknownName {
    /// What was being named ("cell", "backend", ...).
    pub what: &'static str,
    /// The name given.
    pub name: String,
    /// The accepted names.
    pub expected: String,
}

/// `a`, `a or b`, `a, b or c`: the accepted names in a message.
#[doc(hidden)]
pub fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Implements `name()`, `Display` and `FromStr` for a fieldless enum:
/// `named_enum!(Cell, "cell", { Rnn => "rnn" | "vanilla", Lstm => "lstm" })`. Parsing is
/// case-insensitive and reads `_` as `-`; the first name of each variant is its canonical one.
#[macro_export]
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($var:ident => $name:literal $(| $alias:literal)*),+ $(,)? }) => {
        impl $ty {
            /// The canonical name (what `Display` prints and `FromStr` accepts).
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$var => $name,)+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                let key = s.trim().to_ascii_lowercase().replace('_', "-");
                match key.as_str() {
                    $($name $(| $alias)* => Ok($ty::$var),)+
                    _ => Err($crate::UnknownName {
                        what: $what,
                        name: s.to_string(),
                        expected: $crate::names::one_of(&[$($name),+]),
                    }),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Shade {
        Light,
        Dark,
    }
    crate::named_enum!(Shade, "shade", { Light => "light" | "pale", Dark => "dark-grey" });

    #[test]
    fn names_parse_and_print() {
        assert_eq!("PALE".parse::<Shade>().unwrap(), Shade::Light);
        assert_eq!("dark_grey".parse::<Shade>().unwrap(), Shade::Dark);
        assert_eq!(Shade::Dark.to_string(), "dark-grey");
        let e = "black".parse::<Shade>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown shade 'black': expected light or dark-grey"
        );
    }
}
