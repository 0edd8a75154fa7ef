//! Ids that are all strings but never interchangeable: a tenant's id, and a record's id in Zoho
//! CRM or in QuickBooks Online. A link holds one of each, and several engine calls take a
//! tenant and a record id side by side; as types of their own they cannot be swapped.
//!
//! Each derefs to `str`, so reading one (`&id` where a `&str` is wanted, `id.as_str()`) costs
//! no conversion; making one from text is explicit (`TenantId::from(…)`, `.into()`). They are
//! stored and serialized as the plain string.

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            Default,
            serde::Serialize,
            serde::Deserialize,
            sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                Self(id.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

string_id! {
    /// A tenant (a signed-up business): every row of tenant data is scoped by it.
    TenantId
}

string_id! {
    /// A record's id in Zoho CRM.
    ZohoId
}

string_id! {
    /// A record's id in QuickBooks Online (unique per entity within a company).
    QboId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_as_its_text_and_serializes_as_it() {
        let id = QboId::from("58");
        assert_eq!(id, "58");
        assert_eq!(id.as_str(), "58");
        assert_eq!(&*id, "58");
        assert_eq!(id.to_string(), "58");
        assert_eq!(
            serde_json::to_value(&id).expect("json"),
            serde_json::json!("58")
        );
        let back: QboId = serde_json::from_value(serde_json::json!("58")).expect("parse");
        assert_eq!(back, id);
    }
}
