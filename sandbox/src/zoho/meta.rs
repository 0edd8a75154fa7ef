//! The simulated org's metadata: modules, their fields (incl. custom fields, picklists, lookups and
//! line-item subforms) in the shapes `/settings/modules` and `/settings/fields` return.

use serde_json::{Value, json};

use crate::ZohoEdition;

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub api_name: &'static str,
    pub label: &'static str,
    pub data_type: &'static str,
    pub mandatory: bool,
    pub unique: bool,
    pub custom: bool,
    pub read_only: bool,
    pub length: u32,
    pub picklist: &'static [&'static str],
    /// Target module of a lookup, or the subform module of a line-item field.
    pub related: Option<&'static str>,
}

const fn field(api_name: &'static str, label: &'static str, data_type: &'static str) -> FieldDef {
    FieldDef {
        api_name,
        label,
        data_type,
        mandatory: false,
        unique: false,
        custom: false,
        read_only: false,
        length: 255,
        picklist: &[],
        related: None,
    }
}

const fn mandatory(mut f: FieldDef) -> FieldDef {
    f.mandatory = true;
    f
}

const fn unique(mut f: FieldDef) -> FieldDef {
    f.unique = true;
    f
}

const fn custom(mut f: FieldDef) -> FieldDef {
    f.custom = true;
    f
}

const fn read_only(mut f: FieldDef) -> FieldDef {
    f.read_only = true;
    f
}

const fn related(mut f: FieldDef, module: &'static str) -> FieldDef {
    f.related = Some(module);
    f
}

const fn picklist(mut f: FieldDef, values: &'static [&'static str]) -> FieldDef {
    f.picklist = values;
    f
}

#[derive(Debug, Clone)]
pub struct ModuleDef {
    pub api_name: &'static str,
    pub singular: &'static str,
    pub id: &'static str,
    /// The field Zoho shows as the record's name (`display_name` in the deleted list, lookup `name`).
    pub display_field: &'static str,
    pub inventory: bool,
    /// Line-item subform modules are not listed in `/settings/modules` and have no record endpoints.
    pub subform: bool,
    pub fields: Vec<FieldDef>,
}

fn system_fields() -> Vec<FieldDef> {
    vec![
        related(field("Owner", "Owner", "ownerlookup"), "users"),
        read_only(field("Created_Time", "Created Time", "datetime")),
        read_only(field("Modified_Time", "Modified Time", "datetime")),
        read_only(field("Created_By", "Created By", "ownerlookup")),
        read_only(field("Modified_By", "Modified By", "ownerlookup")),
    ]
}

fn line_items(api_name: &'static str, label: &'static str, subform: &'static str) -> FieldDef {
    related(field(api_name, label, "subform"), subform)
}

fn totals() -> Vec<FieldDef> {
    vec![
        read_only(field("Sub_Total", "Sub Total", "currency")),
        field("Discount", "Discount", "currency"),
        field("Adjustment", "Adjustment", "currency"),
        read_only(field("Grand_Total", "Grand Total", "currency")),
        field("Billing_Street", "Billing Street", "text"),
        field("Billing_City", "Billing City", "text"),
        field("Billing_Code", "Billing Code", "text"),
        field("Billing_Country", "Billing Country", "text"),
        field("Terms_and_Conditions", "Terms and Conditions", "textarea"),
        field("Description", "Description", "textarea"),
    ]
}

fn module(
    api_name: &'static str,
    singular: &'static str,
    id: &'static str,
    display_field: &'static str,
    inventory: bool,
    own: Vec<FieldDef>,
) -> ModuleDef {
    let mut fields = system_fields();
    fields.extend(own);
    ModuleDef {
        api_name,
        singular,
        id,
        display_field,
        inventory,
        subform: false,
        fields,
    }
}

fn subform(api_name: &'static str, id: &'static str) -> ModuleDef {
    ModuleDef {
        api_name,
        singular: api_name,
        id,
        display_field: "Product_Name",
        inventory: true,
        subform: true,
        fields: vec![
            mandatory(related(
                field("Product_Name", "Product Name", "lookup"),
                "Products",
            )),
            mandatory(field("Quantity", "Quantity", "double")),
            field("List_Price", "List Price", "currency"),
            field("Discount", "Discount", "currency"),
            field("Description", "Description", "textarea"),
            read_only(field("Total", "Total", "currency")),
            read_only(field("Net_Total", "Net Total", "currency")),
            read_only(field("Sequence_Number", "Sequence Number", "integer")),
        ],
    }
}

/// The data types a custom field added through the control API may have.
pub const ADDABLE_TYPES: &[&str] = &[
    "text", "textarea", "email", "phone", "website", "integer", "double", "currency", "percent",
    "boolean", "date", "datetime",
];

/// A custom field an admin adds in the CRM's setup (`POST /_sandbox/zoho-fields/{module}`).
pub fn added_custom_field(
    api_name: &'static str,
    label: &'static str,
    data_type: &'static str,
) -> FieldDef {
    custom(field(api_name, label, data_type))
}

pub fn modules(edition: ZohoEdition) -> Vec<ModuleDef> {
    let mut all = vec![
        module(
            "Leads",
            "Lead",
            "5725767000000002175",
            "Last_Name",
            false,
            vec![
                field("First_Name", "First Name", "text"),
                mandatory(field("Last_Name", "Last Name", "text")),
                field("Company", "Company", "text"),
                field("Email", "Email", "email"),
                field("Phone", "Phone", "phone"),
                picklist(
                    field("Lead_Status", "Lead Status", "picklist"),
                    &[
                        "-None-",
                        "Not Contacted",
                        "Contacted",
                        "Qualified",
                        "Lost Lead",
                    ],
                ),
            ],
        ),
        module(
            "Accounts",
            "Account",
            "5725767000000002177",
            "Account_Name",
            false,
            vec![
                mandatory(field("Account_Name", "Account Name", "text")),
                field("Account_Number", "Account Number", "text"),
                field("Phone", "Phone", "phone"),
                field("Website", "Website", "website"),
                picklist(
                    field("Account_Type", "Account Type", "picklist"),
                    &[
                        "-None-", "Customer", "Partner", "Prospect", "Vendor", "Other",
                    ],
                ),
                picklist(
                    field("Industry", "Industry", "picklist"),
                    &[
                        "-None-",
                        "Construction",
                        "Manufacturing",
                        "Retail",
                        "Services",
                        "Technology",
                    ],
                ),
                field("Billing_Street", "Billing Street", "text"),
                field("Billing_City", "Billing City", "text"),
                field("Billing_State", "Billing State", "text"),
                field("Billing_Code", "Billing Code", "text"),
                field("Billing_Country", "Billing Country", "text"),
                field("Description", "Description", "textarea"),
                custom(unique(field("QBO_Id", "QBO Id", "text"))),
                custom(field("Credit_Limit", "Credit Limit", "currency")),
            ],
        ),
        module(
            "Contacts",
            "Contact",
            "5725767000000002179",
            "Last_Name",
            false,
            vec![
                field("First_Name", "First Name", "text"),
                mandatory(field("Last_Name", "Last Name", "text")),
                unique(field("Email", "Email", "email")),
                field("Phone", "Phone", "phone"),
                field("Mobile", "Mobile", "phone"),
                field("Title", "Title", "text"),
                related(field("Account_Name", "Account Name", "lookup"), "Accounts"),
                field("Mailing_Street", "Mailing Street", "text"),
                field("Mailing_City", "Mailing City", "text"),
                field("Mailing_Zip", "Mailing Zip", "text"),
                field("Mailing_Country", "Mailing Country", "text"),
                custom(field("Date_of_Birth", "Date of Birth", "date")),
            ],
        ),
        module(
            "Vendors",
            "Vendor",
            "5725767000000002191",
            "Vendor_Name",
            true,
            vec![
                mandatory(field("Vendor_Name", "Vendor Name", "text")),
                field("Email", "Email", "email"),
                field("Phone", "Phone", "phone"),
                field("Website", "Website", "website"),
                field("City", "City", "text"),
                field("Country", "Country", "text"),
                custom(unique(field("QBO_Id", "QBO Id", "text"))),
            ],
        ),
        module(
            "Products",
            "Product",
            "5725767000000002181",
            "Product_Name",
            true,
            vec![
                mandatory(field("Product_Name", "Product Name", "text")),
                unique(field("Product_Code", "Product Code", "text")),
                field("Unit_Price", "Unit Price", "currency"),
                field("Qty_in_Stock", "Qty in Stock", "double"),
                field("Taxable", "Taxable", "boolean"),
                field("Product_Active", "Product Active", "boolean"),
                picklist(
                    field("Product_Category", "Product Category", "picklist"),
                    &["-None-", "Hardware", "Software", "Service"],
                ),
                related(field("Vendor_Name", "Vendor Name", "lookup"), "Vendors"),
                field("Description", "Description", "textarea"),
                field("Sales_Start_Date", "Sales Start Date", "date"),
                custom(unique(field("QBO_Id", "QBO Id", "text"))),
            ],
        ),
    ];
    let documents: [(&str, &str, &str, &str, &str, &str); 4] = [
        (
            "Quotes",
            "Quote",
            "5725767000000002183",
            "Quoted_Items",
            "Quoted Items",
            "Quote_Stage",
        ),
        (
            "Sales_Orders",
            "Sales Order",
            "5725767000000002185",
            "Ordered_Items",
            "Ordered Items",
            "Status",
        ),
        (
            "Invoices",
            "Invoice",
            "5725767000000002187",
            "Invoiced_Items",
            "Invoiced Items",
            "Status",
        ),
        (
            "Purchase_Orders",
            "Purchase Order",
            "5725767000000002189",
            "Purchase_Items",
            "Purchase Items",
            "Status",
        ),
    ];
    for (api_name, singular, id, items, items_label, status) in documents {
        let party = if api_name == "Purchase_Orders" {
            mandatory(related(
                field("Vendor_Name", "Vendor Name", "lookup"),
                "Vendors",
            ))
        } else {
            mandatory(related(
                field("Account_Name", "Account Name", "lookup"),
                "Accounts",
            ))
        };
        let mut own = vec![
            mandatory(field("Subject", "Subject", "text")),
            party,
            related(field("Contact_Name", "Contact Name", "lookup"), "Contacts"),
            picklist(
                field(status, "Status", "picklist"),
                &[
                    "Draft",
                    "Negotiation",
                    "Delivered",
                    "On Hold",
                    "Confirmed",
                    "Closed Won",
                    "Closed Lost",
                    "Created",
                    "Approved",
                    "Cancelled",
                ],
            ),
            field("Due_Date", "Due Date", "date"),
            mandatory(line_items(items, items_label, items)),
            custom(unique(field("QBO_Id", "QBO Id", "text"))),
        ];
        own.extend(totals());
        all.push(module(api_name, singular, id, "Subject", true, own));
    }
    for (items, id) in [
        ("Quoted_Items", "5725767000000002193"),
        ("Ordered_Items", "5725767000000002195"),
        ("Invoiced_Items", "5725767000000002197"),
        ("Purchase_Items", "5725767000000002199"),
    ] {
        all.push(subform(items, id));
    }
    // The rest of each module's standard fields (as a real org's records carry them, `null` when unset).
    for module in &mut all {
        let extras: &[(&'static str, &'static str, &'static str)] = match module.api_name {
            "Accounts" => ACCOUNT_FIELDS,
            "Contacts" => CONTACT_FIELDS,
            "Products" => PRODUCT_FIELDS,
            _ => &[],
        };
        for (api_name, label, data_type) in extras {
            if !module.fields.iter().any(|f| f.api_name == *api_name) {
                let mut def = field(api_name, label, data_type);
                def.read_only = matches!(
                    *api_name,
                    "Full_Name" | "nearby_distance__s" | "Last_Activity_Time" | "Record_Image"
                );
                if *data_type == "ownerlookup" {
                    def.related = Some("users");
                }
                if *data_type == "lookup" {
                    def.related = Some(match *api_name {
                        "Parent_Account" => "Accounts",
                        "Reporting_To" => "Contacts",
                        _ => "Vendors",
                    });
                }
                module.fields.push(def);
            }
        }
    }
    if edition == ZohoEdition::Free {
        all.retain(|m| !m.inventory);
    }
    all
}

/// Stable 19-digit ids for metadata objects: the module's id prefix plus the field's position.
fn id_for(module: &ModuleDef, index: usize) -> String {
    let prefix = module.id.get(..16).unwrap_or(module.id);
    format!("{prefix}{:03}", index % 1000)
}

pub fn module_json(module: &ModuleDef, sequence: usize) -> Value {
    let plural = module.api_name.replace('_', " ");
    json!({
        "has_more_profiles": false, "access_type": "org_based", "private_profile": null, "global_search_supported": true,
        "deletable": true, "description": null, "creatable": true, "recycle_bin_on_delete": true,
        "modified_time": "2026-01-05T10:00:00-07:00", "plural_label": plural, "presence_sub_menu": true,
        "actual_plural_label": plural, "lookupable": true, "id": module.id, "isBlueprintSupported": true, "visibility": 1,
        "convertable": module.api_name == "Leads", "sub_menu_available": true, "editable": true,
        "actual_singular_label": module.singular, "profiles": [{"name": "Administrator", "id": "5725767000000026011"}],
        "show_as_tab": true, "web_link": null, "sequence_number": sequence, "singular_label": module.singular,
        "viewable": true, "api_supported": true, "api_name": module.api_name, "quick_create": true,
        "modified_by": {"name": "Sandbox Admin", "id": "5725767000000411001"}, "generated_type": "default",
        "feeds_required": false, "public_fields_configured": false, "arguments": [], "module_name": module.api_name,
        "profile_count": 1, "business_card_field_limit": 5, "parent_module": {}, "status": "visible"
    })
}

/// Zoho's UI widget codes for the data types the simulator uses.
fn ui_type(data_type: &str) -> u32 {
    match data_type {
        "ownerlookup" => 8,
        "textarea" => 3,
        "email" => 25,
        "phone" => 33,
        "picklist" => 2,
        "lookup" => 4,
        "boolean" => 301,
        "date" => 24,
        "datetime" => 333,
        "currency" => 36,
        "double" => 38,
        "integer" => 32,
        "subform" => 10,
        _ => 1,
    }
}

pub fn field_json(module: &ModuleDef, field: &FieldDef, index: usize) -> Value {
    let json_type = match field.data_type {
        "integer" | "bigint" => "integer",
        "double" | "currency" | "percent" | "decimal" => "double",
        "boolean" => "boolean",
        "lookup" | "ownerlookup" => "jsonobject",
        "subform" | "multiselectpicklist" => "jsonarray",
        _ => "string",
    };
    let picks: Vec<Value> = field
        .picklist
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"display_value": v, "actual_value": v, "id": id_for(module, 900 + i), "sequence_number": i + 1, "type": "used"}))
        .collect();
    let lookup = match (field.data_type, field.related) {
        ("lookup", Some(target)) => {
            json!({"module": {"api_name": target, "id": id_for(module, 800)}, "display_label": field.label, "api_name": field.api_name, "id": id_for(module, 801)})
        }
        _ => json!({}),
    };
    let subform = match (field.data_type, field.related) {
        ("subform", Some(target)) => json!({"module": target, "id": id_for(module, 700)}),
        _ => Value::Null,
    };
    json!({
        "associated_module": subform, "webhook": true,
        "operation_type": {"web_update": !field.read_only, "api_create": !field.read_only, "web_create": !field.read_only, "api_update": !field.read_only},
        "field_label": field.label, "tooltip": null, "type": "used", "field_read_only": field.read_only,
        "display_label": field.label, "read_only": field.read_only, "id": id_for(module, index), "created_time": null,
        "filterable": true, "visible": true,
        "profiles": [{"permission_type": "read_write", "name": "Administrator", "id": "5725767000000026011"}],
        "view_type": {"view": true, "edit": !field.read_only, "quick_create": field.mandatory, "create": !field.read_only},
        "separator": false, "searchable": true, "history_tracking_enabled": false, "external": null,
        "api_name": field.api_name, "parent_field": null,
        "unique": if field.unique { json!({"casesensitive": "0"}) } else { json!({}) },
        "enable_colour_code": false, "child_fields": null, "pick_list_values": picks,
        "system_mandatory": field.mandatory, "private": null, "virtual_field": false, "json_type": json_type,
        "crypt": null, "created_source": if field.custom { "custom" } else { "default" },
        "display_type": -1, "modified_time": null, "public": false, "currency": {}, "custom_field": field.custom,
        "lookup": lookup, "length": field.length, "display_field": field.api_name == module.display_field,
        "sortable": true, "data_type": field.data_type, "formula": {}, "decimal_place": null,
        "mass_update": !field.read_only, "multiselectlookup": {}, "auto_number": {},
        "additional_column": null, "address": null, "association_details": null, "businesscard_supported": false,
        "colour_code_enabled_by_system": false, "column_name": field.api_name.to_uppercase(),
        "convert_mapping": if module.api_name == "Leads" { json!({"Contacts": null, "Deals": null, "Accounts": null}) } else { json!({}) },
        "customizable_properties": if field.custom { json!(["mandatory", "unique", "removal", "tooltip"]) } else { json!(["field_of_lookup"]) },
        "display_format": null, "display_format_properties": null,
        "email_parser": {"fields_update_supported": false, "record_operations_supported": false},
        "global_picklist": null, "hipaa_compliance": null, "hipaa_compliance_enabled": false, "history_tracking": null,
        "layout_associations": [{"api_name": "Standard__s", "name": "Standard", "id": id_for(module, 600)}],
        "multi_module_lookup": {}, "pick_list_values_sorted_lexically": false, "range": null, "rollup_summary": {},
        "ui_type": ui_type(field.data_type), "quick_sequence_number": if field.mandatory { json!("1") } else { Value::Null }
    })
}

const COMMON_FIELDS: [(&str, &str, &str); 2] = [
    ("Last_Activity_Time", "Last Activity Time", "datetime"),
    ("Record_Image", "Record Image", "profileimage"),
];

const ACCOUNT_FIELDS: &[(&str, &str, &str)] = &[
    COMMON_FIELDS[0],
    COMMON_FIELDS[1],
    ("nearby_distance__s", "Nearby Distance", "double"),
    ("Account_Site", "Account Site", "text"),
    ("Parent_Account", "Parent Account", "lookup"),
    ("Fax", "Fax", "phone"),
    ("Ticker_Symbol", "Ticker Symbol", "text"),
    ("Ownership", "Ownership", "picklist"),
    ("Employees", "Employees", "integer"),
    ("SIC_Code", "SIC Code", "integer"),
    ("Annual_Revenue", "Annual Revenue", "currency"),
    ("Rating", "Rating", "picklist"),
    (
        "Billing_Flat_House_No_Building_Apartment_Name",
        "Billing Flat/House No/Building/Apartment Name",
        "text",
    ),
    ("Billing_Latitude", "Billing Latitude", "text"),
    ("Billing_Longitude", "Billing Longitude", "text"),
    ("Billing_Coordinates", "Billing Coordinates", "text"),
    ("Billing_Address", "Billing Address", "text"),
    ("Shipping_Street", "Shipping Street", "text"),
    ("Shipping_City", "Shipping City", "text"),
    ("Shipping_State", "Shipping State", "text"),
    ("Shipping_Code", "Shipping Code", "text"),
    ("Shipping_Country", "Shipping Country", "text"),
    (
        "Shipping_Flat_House_No_Building_Apartment_Name",
        "Shipping Flat/House No/Building/Apartment Name",
        "text",
    ),
    ("Shipping_Latitude", "Shipping Latitude", "text"),
    ("Shipping_Longitude", "Shipping Longitude", "text"),
    ("Shipping_Coordinates", "Shipping Coordinates", "text"),
    ("Shipping_Address", "Shipping Address", "text"),
];

const CONTACT_FIELDS: &[(&str, &str, &str)] = &[
    COMMON_FIELDS[0],
    COMMON_FIELDS[1],
    ("nearby_distance__s", "Nearby Distance", "double"),
    ("Full_Name", "Full Name", "text"),
    ("Salutation", "Salutation", "picklist"),
    ("Secondary_Email", "Secondary Email", "email"),
    ("Other_Phone", "Other Phone", "phone"),
    ("Home_Phone", "Home Phone", "phone"),
    ("Asst_Phone", "Asst Phone", "phone"),
    ("Assistant", "Assistant", "text"),
    ("Fax", "Fax", "phone"),
    ("Department", "Department", "text"),
    ("Description", "Description", "textarea"),
    ("Reporting_To", "Reporting To", "lookup"),
    ("Vendor_Name", "Vendor Name", "lookup"),
    ("Lead_Source", "Lead Source", "picklist"),
    ("Email_Opt_Out", "Email Opt Out", "boolean"),
    ("Unsubscribed_Mode", "Unsubscribed Mode", "picklist"),
    ("Unsubscribed_Time", "Unsubscribed Time", "datetime"),
    ("Twitter", "Twitter", "text"),
    ("Skype_ID", "Skype ID", "text"),
    ("Mailing_State", "Mailing State", "text"),
    (
        "Mailing_Flat_House_No_Building_Apartment_Name",
        "Mailing Flat/House No/Building/Apartment Name",
        "text",
    ),
    ("Mailing_Latitude", "Mailing Latitude", "text"),
    ("Mailing_Longitude", "Mailing Longitude", "text"),
    ("Mailing_Coordinates", "Mailing Coordinates", "text"),
    ("Mailing_Address", "Mailing Address", "text"),
    ("Other_Street", "Other Street", "text"),
    ("Other_City", "Other City", "text"),
    ("Other_State", "Other State", "text"),
    ("Other_Zip", "Other Zip", "text"),
    ("Other_Country", "Other Country", "text"),
    (
        "Other_Flat_House_No_Building_Apartment_Name",
        "Other Flat/House No/Building/Apartment Name",
        "text",
    ),
    ("Other_Latitude", "Other Latitude", "text"),
    ("Other_Longitude", "Other Longitude", "text"),
    ("Other_Coordinates", "Other Coordinates", "text"),
    ("Other_Address", "Other Address", "text"),
];

const PRODUCT_FIELDS: &[(&str, &str, &str)] = &[
    COMMON_FIELDS[0],
    COMMON_FIELDS[1],
    ("Qty_in_Demand", "Qty in Demand", "double"),
    ("Qty_Ordered", "Qty Ordered", "double"),
    ("Reorder_Level", "Reorder Level", "double"),
    ("Usage_Unit", "Usage Unit", "picklist"),
    ("Tax", "Tax", "multiselectpicklist"),
    ("Manufacturer", "Manufacturer", "picklist"),
    ("Handler", "Handler", "ownerlookup"),
    ("Commission_Rate", "Commission Rate", "currency"),
    ("Sales_End_Date", "Sales End Date", "date"),
    ("Support_Start_Date", "Support Start Date", "date"),
    ("Support_Expiry_Date", "Support Expiry Date", "date"),
];
