"""Every fixed sentence of the complaint dossier, in French and English (`Messages.lookup`).

Owns wording only. Values inserted with `{...}` are escaped by the renderer before they reach
these strings, which may hold reportlab paragraph markup (<b>, <i>, <font>); must not format.
"""

from __future__ import annotations

from types import MappingProxyType

from rempart.i18n import Catalog

__all__ = ["CATALOG"]

_TEXT: dict[str, dict[str, str]] = {
    # ----------------------------------------------------------------------- every page
    "page.header": {
        "en": "Complaint dossier — confidential",
        "fr": "Dossier de plainte — confidentiel",
    },
    "page.footer": {
        "en": "Ref. {reference} · generated {generated} · page {page} of {pages}",
        "fr": "Réf. {reference} · établi le {generated} · page {page} sur {pages}",
    },
    "pdf.title": {"en": "Complaint dossier {reference}", "fr": "Dossier de plainte {reference}"},
    "pdf.subject": {
        "en": "Online copies of intimate images shared without consent",
        "fr": "Copies en ligne d'images intimes diffusées sans consentement",
    },
    # ---------------------------------------------------------------------------- cover
    "cover.title": {"en": "Complaint dossier", "fr": "Dossier de plainte"},
    "cover.subtitle": {
        "en": "Copies of intimate images shared without consent, found online and sealed "
        "with Rempart",
        "fr": "Copies d'images intimes diffusées sans consentement, trouvées en ligne et "
        "scellées avec Rempart",
    },
    "cover.confidential": {
        "en": "<b>Confidential.</b> This document holds sensitive personal data. Share it only "
        "with the authorities handling the complaint.",
        "fr": "<b>Confidentiel.</b> Ce document contient des données personnelles sensibles. "
        "Ne le transmettre qu'aux autorités saisies de la plainte.",
    },
    "cover.reference": {"en": "Case reference", "fr": "Référence du dossier"},
    "cover.victim": {"en": "Victim", "fr": "Victime"},
    "cover.organisation": {"en": "Organisation", "fr": "Association"},
    "cover.caseworker": {"en": "Caseworker", "fr": "Dossier suivi par"},
    "cover.contact": {"en": "Contact", "fr": "Coordonnées"},
    "cover.flagger": {
        "en": "Trusted flagger (DSA, art. 22)",
        "fr": "Signaleur de confiance (DSA, art. 22)",
    },
    "cover.flagger.value": {
        "en": "yes, designation {designation}",
        "fr": "oui, désignation {designation}",
    },
    "cover.flagger.by": {
        "en": "yes, designation {designation} by {coordinator}",
        "fr": "oui, désignation {designation} par {coordinator}",
    },
    "cover.complaint": {"en": "Complaint", "fr": "Plainte"},
    "cover.individual": {"en": "individual", "fr": "individuelle"},
    "cover.collective": {
        "en": "collective, for {n} victims",
        "fr": "collective, pour {n} victimes",
    },
    "cover.collective.one": {"en": "collective, for 1 victim", "fr": "collective, pour 1 victime"},
    "cover.opened": {"en": "Case opened", "fr": "Dossier ouvert le"},
    "cover.generated": {"en": "Dossier generated", "fr": "Document établi le"},
    "cover.period": {
        "en": "Period covered (posting dates)",
        "fr": "Période couverte (dates de publication)",
    },
    "cover.period.none": {
        "en": "unknown: the sites gave no posting date",
        "fr": "inconnue : les sites n'ont pas indiqué de date de publication",
    },
    "cover.period.unknown": {
        "en": "(posting date unknown for {n} copies)",
        "fr": "(date de publication inconnue pour {n} copies)",
    },
    "cover.period.unknown.one": {
        "en": "(posting date unknown for 1 copy)",
        "fr": "(date de publication inconnue pour 1 copie)",
    },
    "cover.seen": {"en": "Seen online by Rempart", "fr": "Constatées en ligne par Rempart"},
    "cover.period.value": {"en": "{start} to {end}", "fr": "du {start} au {end}"},
    "cover.attach": {
        "en": "To attach: this document and the {n} sealed bundles listed in the annex.",
        "fr": "Pièces à joindre : ce document et les {n} scellés énumérés en annexe.",
    },
    "cover.attach.one": {
        "en": "To attach: this document and the sealed bundle listed in the annex.",
        "fr": "Pièces à joindre : ce document et le scellé indiqué en annexe.",
    },
    "cover.attach.none": {
        "en": "To attach: this document (no sealed bundle yet).",
        "fr": "Pièce à joindre : ce document (aucun scellé pour l'instant).",
    },
    "minor.title": {"en": "Victim under 18", "fr": "Victime mineure"},
    "minor.body": {
        "en": "This dossier contains no picture at all, not even blurred: only references and "
        "digests. The case goes to child-protection channels: report the content to Pharos "
        "(internet-signalement.gouv.fr) and to the hotline Point de Contact "
        "(pointdecontact.net), which works with the INHOPE network. Do not copy, forward or "
        "open the media yourself.",
        "fr": "Ce dossier ne contient aucune image, même floutée : seulement des références et "
        "des empreintes numériques. L'affaire relève des canaux de protection de l'enfance : "
        "signaler les contenus à Pharos (internet-signalement.gouv.fr) et à la hotline Point "
        "de Contact (pointdecontact.net), membre du réseau INHOPE. Ne pas copier, transférer "
        "ni ouvrir soi-même les médias.",
    },
    # -------------------------------------------------------------------------- summary
    "summary.title": {"en": "Summary", "fr": "Synthèse"},
    "summary.found": {
        "en": "Copies found, confirmed by the organisation",
        "fr": "Copies trouvées, confirmées par l'association",
    },
    "summary.pending": {
        "en": "not counted: unverified matches, in a separate annex",
        "fr": "non comptées : correspondances non vérifiées, en annexe distincte",
    },
    "summary.sites": {"en": "Sites", "fr": "Sites concernés"},
    "summary.removed": {"en": "Copies removed", "fr": "Copies retirées"},
    "summary.online": {"en": "Copies still online", "fr": "Copies encore en ligne"},
    "summary.captures": {"en": "Sealed captures", "fr": "Captures scellées (constats)"},
    "summary.notices": {"en": "Notices sent to hosts", "fr": "Notifications envoyées"},
    "sites.title": {"en": "Sites", "fr": "Sites concernés"},
    "sites.site": {"en": "Site", "fr": "Site"},
    "sites.copies": {"en": "Copies", "fr": "Copies"},
    "sites.removed": {"en": "Removed", "fr": "Retirées"},
    "sites.first": {"en": "First seen", "fr": "Première détection"},
    # --------------------------------------------------------------------------- method
    "method.title": {
        "en": "Method: how to read this dossier",
        "fr": "Méthode : comment lire ce dossier",
    },
    "method.hashes": {
        "en": "<b>Finding copies from hashes only.</b> Rempart never searches with the pictures "
        "themselves. The victim computes digital fingerprints (hashes) of her pictures on her "
        "own device: PDQ, a 256-bit perceptual hash, and SHA-256 and MD5, exact hashes. Only "
        "these hashes are sent. Rempart computes the same hashes for the media published on "
        "the sites it watches and compares them. An identical copy has the same exact hash; "
        "an altered copy (cropped, recompressed, resized, mirrored) keeps a close PDQ hash. "
        "The <i>distance</i> is how many of the 256 bits differ, and a match is kept only "
        "below a <i>threshold</i>. Media that match nothing are forgotten once hashed.",
        "fr": "<b>Recherche par empreintes uniquement.</b> Rempart ne cherche jamais avec les "
        "images elles-mêmes. La victime calcule, sur son propre appareil, des empreintes "
        "numériques de ses images : PDQ, empreinte perceptuelle de 256 bits, ainsi que "
        "SHA-256 et MD5, empreintes exactes. Seules ces empreintes sont transmises. Rempart "
        "calcule les mêmes empreintes pour les médias publiés sur les sites surveillés et les "
        "compare. Une copie identique a la même empreinte exacte ; une copie modifiée "
        "(recadrée, recompressée, redimensionnée, retournée) garde une empreinte PDQ proche. "
        "La <i>distance</i> est le nombre de bits qui diffèrent sur 256 ; une correspondance "
        "n'est retenue qu'en dessous d'un <i>seuil</i>. Les médias sans correspondance sont "
        "oubliés aussitôt après le calcul.",
    },
    "method.review": {
        "en": "<b>Human confirmation.</b> A match is only a presumption: a member of the "
        "organisation looks at each copy and confirms or rejects it. Only confirmed copies are "
        "counted and described in this dossier; rejected matches are left out, and matches "
        "not yet reviewed appear, if at all, only in a separate annex.",
        "fr": "<b>Confirmation humaine.</b> Une correspondance n'est qu'une présomption : une "
        "personne de l'association examine chaque copie, puis la confirme ou l'écarte. "
        "Seules les copies confirmées sont comptées et décrites dans ce dossier ; les "
        "correspondances écartées n'y figurent pas, et celles qui n'ont pas encore été "
        "examinées n'apparaissent, le cas échéant, que dans une annexe distincte.",
    },
    "method.seal": {
        "en": "<b>Capture and seal.</b> Each page is captured by a dedicated browser: the raw "
        "HTTP exchange (WARC), a full-page screenshot, the media as served and the technical "
        "context (server address, DNS answers, TLS certificates). Every file gets a SHA-256 "
        "hash the moment it is acquired. The list of hashes is signed with the "
        "organisation's Ed25519 key, then timestamped by one or more time-stamping "
        "authorities (RFC 3161). Every action on the bundle (capture, viewing, export, "
        "transfer) goes into a hash-chained custody log: each entry holds the hash of the one "
        "before, so a deleted or edited entry breaks the chain.",
        "fr": "<b>Constat et scellé.</b> Chaque page est capturée par un navigateur dédié : "
        "échange HTTP brut (WARC), capture d'écran de la page entière, médias tels que servis "
        "et contexte technique (adresse du serveur, réponses DNS, certificats TLS). Chaque "
        "fichier reçoit une empreinte SHA-256 au moment même de son acquisition. La liste des "
        "empreintes est signée avec la clé Ed25519 de l'association, puis horodatée par une "
        "ou plusieurs autorités d'horodatage (RFC 3161). Chaque action sur le scellé "
        "(capture, consultation, export, transmission) est inscrite dans un journal de "
        "traçabilité chaîné : chaque entrée contient l'empreinte de la précédente, si bien "
        "qu'une entrée supprimée ou modifiée rompt la chaîne.",
    },
    "method.proves": {
        "en": "<b>What a seal proves, and what it does not.</b> A seal proves that the files "
        "have not changed since they were sealed (integrity), that they existed at the time "
        "the authority certified (time), and which key sealed them, hence which organisation "
        "and operator made the capture (who). It does <b>not</b> prove by itself what the "
        "server sent: it attests what the operator's tools received and recorded. The "
        "technical context kept in the bundle (addresses, DNS, certificates) helps judge that.",
        "fr": "<b>Ce que prouve un scellé, et ce qu'il ne prouve pas.</b> Un scellé prouve que "
        "les fichiers n'ont pas changé depuis leur scellement (intégrité), qu'ils existaient "
        "à la date certifiée par l'autorité d'horodatage (date), et quelle clé les a scellés, "
        "donc quelle association et quel opérateur ont fait la capture (auteur). Il ne "
        "prouve <b>pas</b> à lui seul ce que le serveur a envoyé : il atteste ce que les "
        "outils de l'opérateur ont reçu et enregistré. Le contexte technique conservé dans le "
        "scellé (adresses, DNS, certificats) permet d'en juger.",
    },
    "method.verify": {
        "en": "<b>Verifying offline.</b> Anyone can check a bundle without a network and "
        "without trusting Rempart: <font name='{mono}'>rempart verify BUNDLE</font> prints a "
        "pass or fail result for each check (hashes, signature, timestamps, custody log); "
        "the timestamp tokens can also be checked independently with "
        "<font name='{mono}'>openssl ts -verify</font>. Step-by-step instructions: "
        "docs/verify.md in Rempart. The annex gives each bundle's SHA-256: "
        "<font name='{mono}'>sha256sum</font> (Linux), <font name='{mono}'>shasum -a 256"
        "</font> (macOS) or <font name='{mono}'>certutil -hashfile FILE SHA256</font> "
        "(Windows) must print the same value.",
        "fr": "<b>Vérifier sans connexion.</b> Chacun peut vérifier un scellé hors ligne, sans "
        "faire confiance à Rempart : <font name='{mono}'>rempart verify SCELLÉ</font> donne "
        "un résultat (réussi ou échoué) pour chaque contrôle (empreintes, signature, "
        "horodatages, journal de traçabilité) ; les jetons d'horodatage se vérifient aussi "
        "de façon indépendante avec <font name='{mono}'>openssl ts -verify</font>. Marche à "
        "suivre détaillée : docs/verify.md dans Rempart. L'annexe donne l'empreinte SHA-256 "
        "de chaque scellé : <font name='{mono}'>sha256sum</font> (Linux), "
        "<font name='{mono}'>shasum -a 256</font> (macOS) ou "
        "<font name='{mono}'>certutil -hashfile FICHIER SHA256</font> (Windows) doit "
        "afficher la même valeur.",
    },
    "method.pictures": {
        "en": "<b>Pictures.</b> The thumbnails in this dossier are deliberately blurred: they "
        "only help tell the copies apart. The media themselves are in the sealed bundles, to "
        "be viewed only by those entitled to.",
        "fr": "<b>Images.</b> Les vignettes de ce dossier sont volontairement floutées : elles "
        "servent seulement à distinguer les copies. Les médias eux-mêmes se trouvent dans "
        "les scellés, à ne consulter que par les personnes habilitées.",
    },
    "method.pictures.minor": {
        "en": "<b>Pictures.</b> The victim is under 18: this dossier shows no picture, only "
        "references and digests.",
        "fr": "<b>Images.</b> La victime est mineure : ce dossier ne montre aucune image, "
        "seulement des références et des empreintes.",
    },
    "method.times": {
        "en": "<b>Times</b> are given in the {zone} time zone, with their offset from UTC.",
        "fr": "<b>Les heures</b> sont données dans le fuseau {zone}, avec leur décalage par "
        "rapport à UTC.",
    },
    "method.provenance": {
        "en": "<b>Origin of the copies.</b> While checking each copy, Rempart reads what the "
        "file says about its origin: Content Credentials (C2PA), the IPTC/XMP source type, "
        "the metadata AI generators leave, editing programs and camera makers; and what the "
        "match itself suggests (a copy matching the victim's picture only through the face "
        "region). Only these readings are kept, never the media. The verdict never "
        "overclaims: a missing signal proves nothing, and no copy is ever called authentic "
        "because nothing was found.",
        "fr": "<b>Origine des copies.</b> En examinant chaque copie, Rempart lit ce que le "
        "fichier dit de son origine : informations d'authenticité (C2PA), type de source "
        "IPTC/XMP, métadonnées laissées par les générateurs d'IA, logiciels de retouche et "
        "appareils photo ; ainsi que ce que la correspondance elle-même suggère (une copie "
        "qui ne correspond à l'image de la victime que par la région du visage). Seules ces "
        "lectures sont conservées, jamais les médias. Le verdict n'affirme jamais plus qu'il "
        "ne sait : l'absence de signal ne prouve rien, et aucune copie n'est dite authentique "
        "faute d'indice.",
    },
    # ----------------------------------------------------------------------- provenance
    "provenance.title": {
        "en": "Origin of the copies: AI signals",
        "fr": "Origine des copies : signaux d'IA",
    },
    "provenance.intro": {
        "en": "What each confirmed copy's file and its match said about its origin, counted "
        "once per copy. See the method section for how it is read.",
        "fr": "Ce que le fichier de chaque copie confirmée et sa correspondance disent de son "
        "origine, chaque copie comptée une fois. Voir la méthode pour la façon de le lire.",
    },
    "provenance.verdict": {"en": "Verdict", "fr": "Verdict"},
    "provenance.copies": {"en": "Copies", "fr": "Copies"},
    "provenance.meaning": {
        "en": "What it means, and what it does not prove",
        "fr": "Ce que cela signifie, et ce que cela ne prouve pas",
    },
    "verdict.ai-declared": {"en": "AI declared", "fr": "IA déclarée"},
    "verdict.ai-suspected": {"en": "AI suspected", "fr": "IA soupçonnée"},
    "verdict.edited": {"en": "Edited", "fr": "Retouchée"},
    "verdict.camera": {"en": "Camera", "fr": "Appareil photo"},
    "verdict.no-signal": {"en": "No signal", "fr": "Aucun signal"},
    "verdict.not-read": {"en": "Not read", "fr": "Non lue"},
    "meaning.ai-declared": {
        "en": "The file says it was made or changed by an AI system (generator metadata, a "
        "signed credential). It does not prove the declaration is true, nor who made it.",
        "fr": "Le fichier indique avoir été créé ou modifié par un système d'IA (métadonnées "
        "d'un générateur, attestation signée). Cela ne prouve ni que la déclaration est "
        "exacte, ni qui l'a fabriqué.",
    },
    "meaning.ai-suspected": {
        "en": "An indirect hint of AI: a watermark, a weak source type, or a match through "
        "the face region only (a likely \u201cundress\u201d or face-swap montage). A "
        "presumption, not a proof.",
        "fr": "Un indice indirect d'IA : filigrane, type de source faible, ou correspondance "
        "par la seule région du visage (montage probable de type « déshabillage » ou "
        "échange de visage). Une présomption, pas une preuve.",
    },
    "meaning.edited": {
        "en": "An editing program left its mark and nothing says AI. An edit may be a mere "
        "resizing; it does not show a montage.",
        "fr": "Un logiciel de retouche a laissé sa trace et rien n'indique l'IA. Une retouche "
        "peut n'être qu'un redimensionnement ; elle ne montre pas un montage.",
    },
    "meaning.camera": {
        "en": "Camera signals only (make, model). It does not prove an unaltered "
        "photograph: such data can be copied or written.",
        "fr": "Seulement des signaux d'appareil photo (marque, modèle). Cela ne prouve pas "
        "une photographie non retouchée : ces données peuvent être copiées ou écrites.",
    },
    "meaning.no-signal": {
        "en": "Nothing either way, the usual case: sites strip metadata. It proves nothing, "
        "neither that the copy is authentic nor that it is not AI-made.",
        "fr": "Rien dans un sens ni dans l'autre, le cas le plus courant : les sites effacent "
        "les métadonnées. Cela ne prouve rien, ni que la copie est authentique, ni qu'elle "
        "n'a pas été fabriquée par IA.",
    },
    "meaning.not-read": {
        "en": "Recorded before Rempart read provenance: unknown, left out of the shares.",
        "fr": "Enregistrée avant que Rempart ne lise la provenance : inconnue, hors des "
        "pourcentages.",
    },
    "provenance.no_signal": {
        "en": "<b>Copies with no signal: {share}</b> of the copies read ({n} of {read}) carry "
        "no provenance signal either way.",
        "fr": "<b>Copies sans aucun signal : {share}</b> des copies lues ({n} sur {read}) ne "
        "portent aucun signal de provenance, dans un sens ou dans l'autre.",
    },
    "provenance.none_read": {
        "en": "<b>Copies with no signal:</b> no copy's provenance was read.",
        "fr": "<b>Copies sans aucun signal :</b> la provenance d'aucune copie n'a été lue.",
    },
    "provenance.by_site": {"en": "By site", "fr": "Par site"},
    "provenance.by_month": {
        "en": "By month first seen",
        "fr": "Par mois de première détection",
    },
    "provenance.by_victim": {"en": "By victim", "fr": "Par victime"},
    "provenance.site": {"en": "Site", "fr": "Site"},
    "provenance.month": {"en": "Month", "fr": "Mois"},
    "provenance.victim": {"en": "Victim", "fr": "Victime"},
    "column.ai-declared": {"en": "AI decl.", "fr": "IA décl."},
    "column.ai-suspected": {"en": "AI susp.", "fr": "IA soupç."},
    "column.edited": {"en": "Edited", "fr": "Retouch."},
    "column.camera": {"en": "Camera", "fr": "Appareil"},
    "column.no-signal": {"en": "No signal", "fr": "Aucun signal"},
    "column.not-read": {"en": "Not read", "fr": "Non lue"},
    "column.share": {"en": "No-signal share", "fr": "Part sans signal"},
    "qualification.title": {
        "en": "Legal qualification these signals suggest",
        "fr": "Qualification pénale que ces signaux suggèrent",
    },
    "qualification.deepfake": {
        "en": "<b>Copies pointing to AI: {n} of {total}</b> (AI declared: {declared}, "
        "suspected: {suspected}). If the investigation confirms it, these copies may fall "
        "under <b>article 226-8-1 of the Code pénal</b>: making public, without the person's "
        "consent, a sexual montage made with her image, or sexual content generated by an "
        "algorithmic process reproducing her image.",
        "fr": "<b>Copies indiquant l'IA : {n} sur {total}</b> (IA déclarée : {declared}, "
        "soupçonnée : {suspected}). Si l'enquête le confirme, ces copies peuvent relever de "
        "<b>l'article 226-8-1 du Code pénal</b> : porter à la connaissance du public ou d'un "
        "tiers, sans le consentement de la personne, un montage à caractère sexuel réalisé "
        "avec son image, ou un contenu à caractère sexuel généré par un traitement "
        "algorithmique et reproduisant son image.",
    },
    "qualification.sharing": {
        "en": "<b>Copies with no known sign of AI: {n} of {total}</b>. As copies of the "
        "victim's own intimate pictures shared without her consent, these copies may fall under "
        "<b>article 226-2-1 of the Code pénal</b>: bringing images of a sexual nature to the "
        "knowledge of the public or of a third party without the person's agreement, even "
        "images obtained with her consent or taken by herself. The absence of a sign of AI "
        "does not show that a copy is unaltered.",
        "fr": "<b>Copies sans signe d'IA connu : {n} sur {total}</b>. En tant que copies des "
        "images intimes de la victime diffusées sans son accord, ces copies peuvent relever de "
        "<b>l'article 226-2-1 du Code pénal</b> : porter à la connaissance du public ou d'un "
        "tiers, sans l'accord de la personne, des images présentant un caractère sexuel, "
        "même obtenues avec son consentement ou par elle-même. L'absence de signe d'IA ne "
        "montre pas qu'une copie n'a pas été modifiée.",
    },
    "qualification.edited": {
        "en": "Among them, copies carrying an editing program's mark: {n}. Whether one is a "
        "montage (also article 226-8-1) is for the investigators to examine.",
        "fr": "Parmi elles, copies portant la trace d'un logiciel de retouche : {n}. Il "
        "revient aux enquêteurs d'examiner s'il s'agit d'un montage (article 226-8-1 "
        "également).",
    },
    "qualification.caution": {
        "en": "These signals are elements for the investigators, not proof: metadata can be "
        "written or removed by anyone, and a match through the face alone is a presumption. "
        "The qualification is for the prosecutor and the court to decide.",
        "fr": "Ces signaux sont des éléments pour les enquêteurs, non des preuves : chacun peut "
        "écrire ou effacer des métadonnées, et une correspondance par le seul visage est une "
        "présomption. La qualification relève du parquet et de la juridiction.",
    },
    "finding.provenance": {"en": "Origin signals", "fr": "Signaux d'origine"},
    "finding.declared_by": {"en": "declared by {by}", "fr": "déclarée par {by}"},
    # ------------------------------------------------------------------------- timeline
    "timeline.title": {"en": "Timeline", "fr": "Chronologie"},
    "timeline.caption": {
        "en": "Top: copies found so far and copies still online. Bottom: every dated event, "
        "by kind. Times in the {zone} time zone.",
        "fr": "En haut : copies trouvées depuis le début et copies encore en ligne. En bas : "
        "chaque événement daté, par type. Heures dans le fuseau {zone}.",
    },
    "timeline.empty": {"en": "No dated event.", "fr": "Aucun événement daté."},
    "timeline.kind": {"en": "Event", "fr": "Événement"},
    "timeline.count": {"en": "Number", "fr": "Nombre"},
    "timeline.first": {"en": "First", "fr": "Premier"},
    "timeline.last": {"en": "Last", "fr": "Dernier"},
    "chart.found": {"en": "Copies found (total)", "fr": "Copies trouvées (cumul)"},
    "chart.online": {"en": "Still online", "fr": "Encore en ligne"},
    "chart.count": {"en": "Copies", "fr": "Copies"},
    "chart.zone": {"en": "Date and time ({zone})", "fr": "Date et heure (fuseau {zone})"},
    "chart.day": {"en": "%Y-%m-%d", "fr": "%d/%m/%Y"},
    "event.posted": {"en": "Posted", "fr": "Publication"},
    "event.first_seen": {"en": "First seen", "fr": "Première détection"},
    "event.captured": {"en": "Sealed capture", "fr": "Constat scellé"},
    "event.confirmed": {"en": "Confirmed", "fr": "Confirmation"},
    "event.notice": {"en": "Notice sent", "fr": "Notification envoyée"},
    "event.removed": {"en": "Found removed", "fr": "Retrait constaté"},
    "event.reappeared": {"en": "Reappeared", "fr": "Réapparition"},
    # -------------------------------------------------------------------------- findings
    "findings.title": {"en": "Copies found", "fr": "Copies trouvées"},
    "findings.none": {
        "en": "No copy is recorded in this dossier.",
        "fr": "Aucune copie n'est enregistrée dans ce dossier.",
    },
    "finding.title": {"en": "Copy #{id}", "fr": "Copie n° {id}"},
    "finding.confirmed": {"en": "confirmed", "fr": "confirmée"},
    "finding.pending": {"en": "awaiting confirmation", "fr": "en attente de confirmation"},
    "finding.removed": {"en": "removed", "fr": "retirée"},
    "finding.site": {"en": "Site", "fr": "Site"},
    "finding.source": {"en": "Watched source", "fr": "Source surveillée"},
    "finding.page": {"en": "Page", "fr": "Page"},
    "finding.media_url": {"en": "Media address", "fr": "Adresse du média"},
    "finding.post": {"en": "Post id", "fr": "Identifiant de publication"},
    "finding.media": {"en": "Media", "fr": "Média"},
    "media.image": {"en": "image", "fr": "image"},
    "media.video": {"en": "video", "fr": "vidéo"},
    "finding.first_seen": {
        "en": "First seen by Rempart",
        "fr": "Vue par Rempart pour la première fois",
    },
    "finding.last_seen": {
        "en": "Last seen by Rempart",
        "fr": "Vue par Rempart pour la dernière fois",
    },
    "finding.posted": {"en": "Posted on", "fr": "Date de publication"},
    "finding.author": {"en": "Posted by", "fr": "Publiée par"},
    "finding.unknown.date": {
        "en": "unknown (not given by the site)",
        "fr": "inconnue (non indiquée par le site)",
    },
    "finding.unknown.author": {
        "en": "unknown (not given by the site)",
        "fr": "inconnu (non indiqué par le site)",
    },
    "finding.place": {"en": "Channel or group", "fr": "Canal ou groupe"},
    "finding.removed_at": {"en": "Found removed", "fr": "Retrait constaté le"},
    "finding.victim": {"en": "Victim (pseudonym)", "fr": "Victime (pseudonyme)"},
    "finding.item": {"en": "Protected picture", "fr": "Image protégée"},
    "finding.item.value": {"en": "{item} (bank {bank})", "fr": "{item} (banque {bank})"},
    "finding.match": {"en": "How it matched", "fr": "Correspondance"},
    "finding.review": {"en": "Review", "fr": "Examen"},
    "review.by": {"en": "confirmed by {who} on {at}", "fr": "confirmée par {who} le {at}"},
    "review.at": {"en": "confirmed on {at}", "fr": "confirmée le {at}"},
    "review.pending": {
        "en": "not yet reviewed by the organisation",
        "fr": "pas encore examinée par l'association",
    },
    "finding.pdq": {"en": "PDQ", "fr": "PDQ"},
    "pdq.quality": {"en": "quality {q}/100", "fr": "qualité {q}/100"},
    "thumb.caption": {"en": "Blurred on purpose", "fr": "Floutée à dessein"},
    "thumb.unreadable": {"en": "Image unreadable", "fr": "Image illisible"},
    "thumb.none": {"en": "No image kept", "fr": "Aucune image conservée"},
    "captures.title": {"en": "Sealed captures", "fr": "Constats scellés"},
    "captures.none": {
        "en": "No sealed capture of this copy yet.",
        "fr": "Aucun constat scellé de cette copie pour l'instant.",
    },
    "capture.bundle": {"en": "Bundle", "fr": "Scellé"},
    "capture.sha256": {"en": "Bundle SHA-256", "fr": "SHA-256 du scellé"},
    "capture.url": {"en": "Page captured", "fr": "Page capturée"},
    "capture.record": {"en": "Record sealed", "fr": "Élément scellé"},
    "capture.when": {"en": "Captured", "fr": "Capturée le"},
    "capture.when.value": {"en": "{at} by {operator}", "fr": "{at} par {operator}"},
    "capture.signer": {"en": "Signing key", "fr": "Clé de signature"},
    "capture.timestamps": {"en": "RFC 3161 timestamps", "fr": "Horodatages RFC 3161"},
    "capture.timestamp": {"en": "{authority}: {at}", "fr": "{authority} : {at}"},
    "capture.no_timestamp": {
        "en": "none (the bundle's time rests on the signature only)",
        "fr": "aucun (la date du scellé ne repose que sur la signature)",
    },
    "notices.title": {"en": "Notices", "fr": "Notifications"},
    "notices.none": {
        "en": "No notice sent yet.",
        "fr": "Aucune notification envoyée à ce jour.",
    },
    "notice.sent": {"en": "Sent", "fr": "Envoyée le"},
    "notice.recipient": {"en": "To", "fr": "Destinataire"},
    "notice.channel": {"en": "Channel", "fr": "Canal"},
    "notice.basis": {"en": "Legal basis", "fr": "Fondement"},
    "notice.status": {"en": "Outcome", "fr": "Suite donnée"},
    "notice.status.value": {"en": "{status} ({at})", "fr": "{status} ({at})"},
    "notice.removed_after": {
        "en": "removed {hours} h after sending (re-checks)",
        "fr": "retirée {hours} h après l'envoi (revérifications)",
    },
    "notice.escalates": {
        "en": "follows up notice {id}",
        "fr": "fait suite à la notification {id}",
    },
    "status.sent": {"en": "sent, no answer yet", "fr": "envoyée, sans réponse à ce jour"},
    "status.acknowledged": {"en": "acknowledged", "fr": "accusé de réception"},
    "status.removed": {"en": "content removed", "fr": "contenu retiré"},
    "status.disabled": {"en": "access disabled", "fr": "accès bloqué"},
    "status.refused": {"en": "refused", "fr": "refusée"},
    "status.no_response": {"en": "no response", "fr": "restée sans réponse"},
    "status.escalated": {"en": "escalated", "fr": "transmise à l'échelon supérieur"},
    "status.pending": {"en": "pending", "fr": "en cours"},
    "status.failed": {"en": "could not be delivered", "fr": "n'a pas pu être remise"},
    # ---------------------------------------------------------------------------- annex
    "annex.title": {"en": "Annex: sealed bundles", "fr": "Annexe : scellés"},
    "pending.title": {
        "en": "Separate annex: unverified matches",
        "fr": "Annexe distincte : correspondances non vérifiées",
    },
    "pending.warning": {
        "en": "<b>Not confirmed.</b> These matches were found from hashes alone and no one at "
        "the organisation has checked them yet: they may not be copies of the victim's "
        "pictures. They are not counted in this dossier and prove nothing on their own.",
        "fr": "<b>Non confirmées.</b> Ces correspondances ont été trouvées par empreintes "
        "uniquement et personne à l'association ne les a encore examinées : il peut ne pas "
        "s'agir de copies des images de la victime. Elles ne sont pas comptées dans ce "
        "dossier et ne prouvent rien à elles seules.",
    },
    "annex.intro": {
        "en": "Hand these files over with this document. Their SHA-256 lets anyone check they "
        "are the files that were sealed, bit for bit.",
        "fr": "Remettre ces fichiers avec ce document. Leur empreinte SHA-256 permet à chacun "
        "de vérifier qu'il s'agit bien, bit pour bit, des fichiers scellés.",
    },
    "annex.none": {"en": "No sealed bundle.", "fr": "Aucun scellé."},
    "annex.file": {"en": "File", "fr": "Fichier"},
    "annex.sha256": {"en": "SHA-256", "fr": "SHA-256"},
    "annex.size": {"en": "Size", "fr": "Taille"},
    "annex.copies": {"en": "Copies", "fr": "Copies"},
    "annex.bytes": {"en": "{n} bytes", "fr": "{n} octets"},
    # ---------------------------------------------------------------------------- values
    "value.none": {"en": "—", "fr": "—"},
}


def _french_spacing(text: str) -> str:
    """French typography: a no-break space before : ; ! ? » and after «, so that the sign never
    starts a line (reportlab breaks lines at spaces, not at U+00A0). Applied to the fixed text
    only, never to the values inserted later."""
    for sign in (":", ";", "!", "?", "»"):
        text = text.replace(f" {sign}", f"\u00a0{sign}")
    return text.replace("« ", "«\u00a0")


CATALOG: Catalog = MappingProxyType(
    {
        key: MappingProxyType(
            {lang: _french_spacing(s) if lang == "fr" else s for lang, s in v.items()}
        )
        for key, v in _TEXT.items()
    }
)
