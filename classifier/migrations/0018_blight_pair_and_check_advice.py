"""Advice for "Leaf blight: early or late" (the blight pair a case can be answered with) and the two checks a
farmer can do herself (late against early blight; bacterial wilt's cut stem in clear water), in every
language, each step with its source. Texts other than English await review by a native speaker.

Frozen: the texts below are copies of classifier/advice/defaults.py and the cgg/rw catalogues as they were
when this was written; rows already there (an admin's edits) are left alone.
"""

from django.db import migrations

LABELS = ("early_or_late_blight", "check_blight", "check_wilt")


def seed(apps, schema_editor):
    Advice = apps.get_model("classifier", "Advice")
    AdviceStep = apps.get_model("classifier", "AdviceStep")
    for row in SEEDED_ADVICE:
        advice, created = Advice.objects.get_or_create(
            label=row["label"],
            language=row["language"],
            defaults={"title": row["title"], "summary": row["summary"], "needs_review": row["needs_review"]},
        )
        if created:
            AdviceStep.objects.bulk_create(
                AdviceStep(advice=advice, position=position, text=text, source=source)
                for position, (text, source) in enumerate(row["steps"])
            )


def unseed(apps, schema_editor):
    apps.get_model("classifier", "Advice").objects.filter(label__in=LABELS).delete()


class Migration(migrations.Migration):
    dependencies = [("classifier", "0017_submission_photos_only")]

    operations = [migrations.RunPython(seed, unseed)]


#: What seed creates: (text, source) per step. Frozen: never edit.
SEEDED_ADVICE = [
    {
        "language": "en",
        "needs_review": False,
        "label": "early_or_late_blight",
        "title": "Leaf blight: early or late",
        "summary": "Your leaves show leaf blight, early or late. The same spray works for both: start now.",
        "steps": [
            (
                "Spray mancozeb now, and every 7 days while the weather is wet: it works on both blights.",
                "CIP, late blight management guidance",
            ),
            (
                "Remove and bury (do not compost) the sick leaves and plants today.",
                "CABI Plantwise factsheet for farmers: potato late blight",
            ),
            (
                "When you spray, wear gloves and cover your nose and mouth; follow the dose on the label.",
                "The fungicide's label; MAAIF guidance on safe use of pesticides",
            ),
        ],
    },
    {
        "language": "en",
        "needs_review": False,
        "label": "check_blight",
        "title": "Late or early blight? Check a sick leaf",
        "summary": "Look at a sick leaf in the morning. Is there white mould under it, or dark, wet-looking patches?",
        "steps": [
            (
                "Late blight: dark, water-soaked patches, often from the leaf edge, and white mould under the leaf on "
                "damp mornings.",
                "CABI Plantwise factsheet for farmers: potato late blight",
            ),
            (
                "Early blight: dry brown spots with rings like a target and a yellow edge, on old leaves first.",
                "CABI Plantwise factsheet for farmers: early blight of potato",
            ),
        ],
    },
    {
        "language": "en",
        "needs_review": False,
        "label": "check_wilt",
        "title": "Bacterial wilt? Check a stem",
        "summary": "Cut a stem near the soil and put it in a glass of clear water. Do milky threads come out?",
        "steps": [
            (
                "Milky threads streaming from the cut stem within a few minutes mean bacterial wilt.",
                "CABI Plantwise factsheet for farmers: bacterial wilt of potato",
            )
        ],
    },
    {
        "language": "cgg",
        "needs_review": True,
        "label": "early_or_late_blight",
        "title": "Endwara y'ebibabi: early blight nari late blight",
        "summary": "Ebibabi byawe biine endwara y'ebibabi, early nari late blight. Omubazi gumwe nigukora aha zombi: "
        "tandika hati.",
        "steps": [
            (
                "Shukaho mancozeb hati, na buri biro 7 obu enjura eri kugwa: nigukora aha ndwara zombi.",
                "CIP (International Potato Center): obuhabuzi aha kurwanisa late blight",
            ),
            (
                "Erizooba ihaho ebibabi n'ebimera ebirwaire, obiziike. Otabita omu ifumbire.",
                "CABI Plantwise, orupapura rw'abahingi: late blight y'ebiraaya",
            ),
            (
                "Ku orikuteera omubazi, yambara giraavu kandi oshweke enyindo n'akanwa; kuratira ebipimo "
                "ebihandiikirwe aha kakopo.",
                "Ebihandiikirwe aha kakopo k'omubazi; obuhabuzi bwa MAAIF aha kukoresa emibazi kurungi",
            ),
        ],
    },
    {
        "language": "cgg",
        "needs_review": True,
        "label": "check_blight",
        "title": "Late nari early blight? Hweza ekibabi ekirwaire",
        "summary": "Reeba ekibabi ekirwaire omu kasheeshe. Haine ekihumbu ekyera ahansi yaakyo, nari ebicweka ebiragura "
        "ebirikuboneka nk'ebibisi?",
        "steps": [
            (
                "Late blight: ebicweka ebiragura ebirikuboneka nk'ebibisi, kainge kuruga aha rubaju rw'ekibabi, "
                "n'ekihumbu ekyera ahansi y'ekibabi omu kasheeshe k'obunyaaru.",
                "CABI Plantwise, orupapura rw'abahingi: late blight y'ebiraaya",
            ),
            (
                "Early blight: obumanyiso bwa kitaka obwoomire oburiho enziringa n'orubaju rwa kinyenje, aha bibabi "
                "ebikuru okubanza.",
                "CABI Plantwise, orupapura rw'abahingi: early blight y'ebiraaya",
            ),
        ],
    },
    {
        "language": "cgg",
        "needs_review": True,
        "label": "check_wilt",
        "title": "Bacterial wilt? Hweza ekiti",
        "summary": "Shara ekiti haihi n'ettaka okiteeke omu gilaasi y'amaizi marungi. Hariho obuhuzi nk'amata "
        "oburikurugamu?",
        "steps": [
            (
                "Obuhuzi nk'amata oburikuruga omu kiti ekishazirwe omu dakiika nkeeke nibimanyisa bacterial wilt.",
                "CABI Plantwise, orupapura rw'abahingi: bacterial wilt y'ebiraaya",
            )
        ],
    },
    {
        "language": "rw",
        "needs_review": True,
        "label": "early_or_late_blight",
        "title": "Uburwayi bw'amababi: alternariya cyangwa mildiyu",
        "summary": "Amababi yawe afite uburwayi bw'amababi, alternariya cyangwa mildiyu. Umuti umwe ukora kuri byombi: "
        "tangira ubu.",
        "steps": [
            (
                "Tera mancozeb ubu, no buri minsi 7 igihe imvura igwa: ukora kuri ubwo burwayi bwombi.",
                "CIP (International Potato Center): inama zo kurwanya mildiyu",
            ),
            (
                "Uyu munsi kura amababi n'ibimera birwaye, ubitabe. Ntubishyire mu ifumbire.",
                "CABI Plantwise, urupapuro rw'abahinzi: mildiyu y'ibirayi",
            ),
            (
                "Igihe utera umuti, ambara uturindantoki kandi upfuke izuru n'umunwa; kurikiza ingano yanditse ku "
                "gacupa.",
                "Ibyanditse ku gacupa k'umuti; inama za MAAIF ku gukoresha imiti neza",
            ),
        ],
    },
    {
        "language": "rw",
        "needs_review": True,
        "label": "check_blight",
        "title": "Mildiyu cyangwa alternariya? Suzuma ikibabi kirwaye",
        "summary": "Reba ikibabi kirwaye mu gitondo. Hari uruhumbu rwera munsi yacyo, cyangwa ibizinga byijimye bisa "
        "n'ibitose?",
        "steps": [
            (
                "Mildiyu: ibizinga byijimye bisa n'ibitose, akenshi bihereye ku nkombe z'ikibabi, n'uruhumbu rwera "
                "munsi y'ikibabi mu gitondo gifite ubuhehere.",
                "CABI Plantwise, urupapuro rw'abahinzi: mildiyu y'ibirayi",
            ),
            (
                "Alternariya: utudomo tw'ikigina twumye dufite uruziga nk'intego n'inkombe y'umuhondo, bibanza ku "
                "mababi ashaje.",
                "CABI Plantwise, urupapuro rw'abahinzi: alternariya y'ibirayi",
            ),
        ],
    },
    {
        "language": "rw",
        "needs_review": True,
        "label": "check_wilt",
        "title": "Kirabiranya? Suzuma uruti",
        "summary": "Kata uruti hafi y'ubutaka urushyire mu kirahure cy'amazi meza. Hari udutsi tumeze nk'amata "
        "dusohokamo?",
        "steps": [
            (
                "Udutsi tumeze nk'amata dusohoka mu ruti rwaciwe mu minota mike bisobanura kirabiranya.",
                "CABI Plantwise, urupapuro rw'abahinzi: kirabiranya y'ibirayi",
            )
        ],
    },
]
