//! Help: how the integration works, what to know before relying on it, answers to the
//! questions people ask most, and how to reach support (the server's `ZQSYNC_SUPPORT_EMAIL`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::support::support_contact;

#[component]
pub fn HelpPage() -> impl IntoView {
    let support = Resource::new(|| (), |()| support_contact());
    view! {
        <Title text="Help" />
        <div class="page-header">
            <h1>"Help"</h1>
            <p class="lead">"How zqsync keeps Zoho CRM and QuickBooks Online in step, and what to do when something looks wrong."</p>
        </div>
        <nav class="help-toc card" aria-label="On this page">
            <a href="#how-it-works">"How it works"</a>
            <a href="#good-to-know">"Good to know"</a>
            <a href="#faq">"Questions and answers"</a>
            <a href="#support">"Support"</a>
        </nav>
        <div class="help-sections">
            <section class="card prose" id="how-it-works" aria-labelledby="how-it-works-title">
                <h2 id="how-it-works-title">"How it works"</h2>
                <ol class="help-steps">
                    <li>
                        <strong>"Connect both systems. "</strong>
                        "Sign in to Zoho CRM under " <A href="/settings?tab=connections">"Settings → Connections"</A>
                        ", and to QuickBooks Online from the user menu → QuickBooks Online: Authenticate, Verify, then switch the integration to Active. "
                        "Nothing syncs while it is inactive, so the switch also pauses everything at once."
                    </li>
                    <li>
                        <strong>"Choose directions. "</strong>
                        "Under " <A href="/settings?tab=direction">"Settings → Sync Direction"</A>
                        " each module pair flows Zoho → QuickBooks, QuickBooks → Zoho, both ways, or not at all. "
                        "Your plan decides which pairs you can switch on; Sales Orders can become QuickBooks invoices or estimates."
                    </li>
                    <li>
                        <strong>"Check the mapping. "</strong>
                        "On " <A href="/">"QuickBooks Mapping"</A>
                        " every QuickBooks field of a module (green marker: standard, red: custom) gets the Zoho field that fills it. "
                        "Sensible defaults are there from the start. Type in the picker to narrow the list; tick Static Field to write a fixed value such as \"Net 30\" instead. "
                        "Sync Mappable Fields reads new custom fields from both systems."
                    </li>
                    <li>
                        <strong>"Filter if you need to. "</strong>
                        "On " <A href="/filters">"Filters"</A>
                        " you decide, per module and direction, which records are copied. A record that does not pass is logged as Not Valid and left alone."
                    </li>
                    <li>
                        <strong>"Let it run. "</strong>
                        "zqsync copies new and changed records every few minutes — you choose how often, from 1 to 60, under "
                        <A href="/settings?tab=schedule">"Settings → Schedule"</A>
                        " — and straight away when you press Sync now. Customers and products go first, then quotes, orders and invoices that refer to them."
                    </li>
                    <li>
                        <strong>"Read the logs. "</strong>
                        "Every record zqsync touches appears under " <A href="/logs">"Logs"</A>
                        " with its outcome: Synced, Error, Not Synced or Not Valid, what went wrong and what to do, and a link that opens the record in Zoho CRM."
                    </li>
                </ol>
                <p>
                    "Only new and changed records are copied. On an annual plan, "
                    <A href="/settings?tab=history">"Sync Historical Data"</A>
                    " also copies older records modified since a date you pick."
                </p>
            </section>

            <section class="card prose" id="good-to-know" aria-labelledby="good-to-know-title">
                <h2 id="good-to-know-title">"Good to know"</h2>
                <ul>
                    <li>
                        <strong>"QuickBooks records remember their Zoho twin. "</strong>
                        "zqsync keeps a link between each pair of records and also stores the Zoho id on the QuickBooks customer or item, so links can be rebuilt. Please leave that value alone."
                    </li>
                    <li>
                        <strong>"Products become inventory items. "</strong>
                        "A Zoho product arrives in QuickBooks as an inventory item, which needs an income, an expense and an inventory asset account: choose them once under "
                        <A href="/settings?tab=inventory">"Settings → Inventory Settings"</A>
                        ". You only need them when products flow from Zoho to QuickBooks. From QuickBooks to Zoho, inventory items always sync; service and non-inventory items when you tick them there."
                    </li>
                    <li>
                        <strong>"When both sides changed. "</strong>
                        "If a record was edited in both systems between two syncs, one version wins — QuickBooks by default, or Zoho, or the newest change, as you choose under Schedule. The other version is written to the log, so nothing is lost unseen. Still, editing one record in two places at once is best avoided."
                    </li>
                    <li>
                        <strong>"Customers and products first. "</strong>
                        "Quotes, orders and invoices refer to customers and items. zqsync syncs a missing customer or product first when that module is enabled in that direction; otherwise the log names exactly which line is missing what. That is why disabling Accounts or Products shows a warning."
                    </li>
                    <li>
                        <strong>"Deleted records. "</strong>
                        "If a record is deleted on one side, zqsync notices when its twin changes next, logs it clearly, and lets you re-create or unlink it from the log entry — it does not silently stop syncing it."
                    </li>
                    <li>
                        <strong>"Sessions. "</strong>
                        "You are logged out after 10 minutes without activity; a minute before, a notice offers \"Stay signed in\". Unsaved changes on QuickBooks Mapping and Filters are kept in your browser and offered back when you log in again, on the page you were on. Forgot your password? The log-in page sends a link by email. Syncing continues without you."
                    </li>
                    <li>
                        <strong>"Plans. "</strong>
                        "Every change to a paid plan starts a new 15-day free trial, without proration, and you get an email for the old plan's end and the new one's start. When a plan shrinks, mappings and settings of the modules it no longer includes are kept, just not run."
                    </li>
                </ul>
            </section>

            <section class="card prose" id="faq" aria-labelledby="faq-title">
                <h2 id="faq-title">"Questions and answers"</h2>
                <details class="faq">
                    <summary>"No fields appear on QuickBooks Mapping."</summary>
                    <p>
                        "Press Reset Default Mapping for the module. If the list is still empty, press Sync Mappable Fields, which reads the fields of both systems again. "
                        "If neither helps, write to support (below) with the module's name."
                    </p>
                </details>
                <details class="faq">
                    <summary>"Only some of my QuickBooks fields are listed."</summary>
                    <p>
                        "QuickBooks reveals custom fields through its settings and through records that use them. Fill the field on one test record in QuickBooks, then press Sync Mappable Fields."
                    </p>
                </details>
                <details class="faq">
                    <summary>"Accounts appear, but Products and Items do not."</summary>
                    <p>
                        "Zoho CRM's free edition has no Products module. Upgrade Zoho CRM to an edition with Products (a trial of Professional works), then press Sync Mappable Fields."
                    </p>
                </details>
                <details class="faq">
                    <summary>"It says \"At least one inventory item must be present\"."</summary>
                    <p>
                        "QuickBooks shows item fields only once an inventory item exists. Create one inventory item in QuickBooks, then on QuickBooks Mapping choose Products, press Reset Default Mapping and then Sync Mappable Fields."
                    </p>
                </details>
                <details class="faq">
                    <summary>"What is a Static Field?"</summary>
                    <p>
                        "A fixed value written into a QuickBooks field on every copy from Zoho, for example payment terms \"Net 30\" for every customer. It is never written to Zoho."
                    </p>
                </details>
                <details class="faq">
                    <summary>"A red banner says QuickBooks or Zoho is disconnected."</summary>
                    <p>
                        "The sign-in stopped working — often because a password changed or access was withdrawn. Syncing is paused rather than failing record after record. Click Reconnect in the banner, sign in again, and syncing resumes where it stopped."
                    </p>
                </details>
                <details class="faq">
                    <summary>"Some records were merged or deleted. Was it zqsync?"</summary>
                    <p>
                        "No. zqsync never merges or deletes records in either system; it creates and updates only. Another app connected to QuickBooks or Zoho CRM is the likely cause."
                    </p>
                </details>
                <details class="faq">
                    <summary>"How do I see whether syncing works?"</summary>
                    <p>
                        "Create a test account in Zoho CRM (or a customer in QuickBooks) with the mapped fields filled in, press Sync now under Settings → Schedule, and look for it under Logs. Do the same with a product before trying quotes or invoices."
                    </p>
                </details>
            </section>

            <section class="card prose" id="support" aria-labelledby="support-title">
                <h2 id="support-title">"Support"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading the support address…"</p> }>
                    // Awaited inside `Suspend`, not read with `.get()` (see the shell: leptos#4578).
                    {move || Suspend::new(async move {
                        match support.await {
                                Ok(email) => {
                                    view! {
                                        <p>
                                            "Write to "
                                            <a href=format!("mailto:{email}") id="support-email">{email.clone()}</a>
                                            ". Include the Module Key of the log entry you are asking about (the Zoho record id in the first column of Logs) — it lets us find the record at once."
                                        </p>
                                    }
                                        .into_any()
                                }
                                Err(error) => {
                                    view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
                                }
                            }
                    })}
                </Transition>
            </section>
        </div>
    }
}
