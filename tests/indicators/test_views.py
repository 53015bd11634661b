import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client

from indicators.charts import value_chart
from tests.factories import IndicatorFactory, IndicatorValueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicator() -> object:
    indicator = IndicatorFactory(
        name="Jeux de données", unit="jeux", baseline_value=Decimal(0), target_value=Decimal(40000)
    )
    for date, value, note in [
        (datetime.date(2018, 6, 30), Decimal("12345.6"), ""),
        (datetime.date(2018, 12, 31), Decimal("-3"), '=HYPERLINK("http://evil")'),
        (datetime.date(2019, 6, 30), Decimal("22000"), "Correction : doublons retirés"),
    ]:
        IndicatorValueFactory(indicator=indicator, date=date, value=value, note=note)
    return indicator


def test_the_indicator_page_has_a_chart_and_a_table_of_the_same_figures(client: Client, indicator: object) -> None:
    page = client.get(indicator.get_absolute_url()).content.decode()

    figure = page.split("<figure")[1].split("</figure>")[0]
    table = page.split("<table>")[1].split("</table>")[0]
    assert figure.count("<circle") == 3
    assert 'role="img"' in figure and "<desc" in figure
    assert table.count("<tr>") == 4  # the header and three values
    assert "12\u202f345,6" in table or "12\xa0345,6" in table
    assert "40\u202f000" in page or "40\xa0000" in page
    assert "Saisie manuelle" in page
    assert ".csv" in page


def test_the_table_writes_its_dates_in_the_page_s_language(client: Client, indicator: object) -> None:
    # Dates are formatted once per date and language for every request (`day` in commitments.templatetags.opengov).
    address = indicator.get_absolute_url()
    tables = [
        client.get(path).content.decode().split("<table>")[1].split("</table>")[0]
        for path in (address, f"/en{address}", address)
    ]

    assert "<td>30 juin 2018</td>" in tables[0] and tables[2] == tables[0]
    assert "<td>June 30, 2018</td>" in tables[1] and "juin" not in tables[1]


def test_the_table_escapes_each_cell_and_the_chart_has_a_dot_a_value(client: Client, indicator: object) -> None:
    # The rows and the chart's marks are written in Python (indicators.views), not by the template's escaping.
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1), value=1, note='<script>"x" & y</script>')

    page = client.get(indicator.get_absolute_url()).content.decode()

    table = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "<td>&lt;script&gt;&quot;x&quot; &amp; y&lt;/script&gt;</td></tr>" in table
    assert "<script>" not in table and table.count("<tr><td>") == 4
    figure = page.split("<svg")[1].split("</svg>")[0]
    assert figure.count('<circle class="og-chart__point" cx="') == 4
    assert figure.count('<polyline class="og-chart__line" points="') >= 1


def test_the_csv_download_has_the_same_figures_with_formulas_neutralised(client: Client, indicator: object) -> None:
    response = client.get(indicator.get_absolute_url().rstrip("/") + ".csv")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"indicateur-{indicator.pk}-jeux-de-donnees.csv" in response["Content-Disposition"]
    assert rows[0] == ["date", "value", "unit", "origin", "note"]
    assert [row[1] for row in rows[1:]] == ["12345.6", "-3", "22000"]
    assert rows[2][4] == '\'=HYPERLINK("http://evil")'


def test_a_hidden_indicator_has_no_page(client: Client) -> None:
    hidden = IndicatorFactory(is_public=False)

    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(hidden.get_absolute_url().rstrip("/") + ".csv").status_code == 404


def test_an_indicator_under_another_commitment_url_is_a_404(client: Client, indicator: object) -> None:
    other = IndicatorFactory()

    assert client.get(indicator.get_absolute_url().replace(f"/{indicator.pk}/", f"/{other.pk}/")).status_code == 404


def test_the_chart_breaks_its_line_across_a_gap() -> None:
    dates = [datetime.date(2018, 1, 1), datetime.date(2018, 2, 1), datetime.date(2018, 3, 1), datetime.date(2019, 3, 1)]
    chart = value_chart(values=[(d, Decimal(i)) for i, d in enumerate(dates)], baseline=None, target=None)

    assert len(chart.points) == 4
    assert [len(segment) for segment in chart.segments] == [3]  # the last reading stands alone


def test_without_values_there_is_no_chart() -> None:
    assert value_chart(values=[], baseline=Decimal(0), target=Decimal(1)) is None


def test_the_page_shows_where_the_figure_is_read_when_and_whether_the_source_fails(client: Client) -> None:
    indicator = IndicatorFactory(
        source_format="csv",
        source_url="https://static.data.gouv.fr/resources/jeux.csv",
        source_selector="jeux",
        source_row_rule="match",
        source_match_column="ministère",
        source_match_value="Culture",
        refresh_interval=datetime.timedelta(hours=6),
        last_read_at=datetime.datetime(2020, 3, 2, 9, 30, tzinfo=datetime.UTC),
    )
    page = client.get(indicator.get_absolute_url()).content.decode()
    assert "https://static.data.gouv.fr/resources/jeux.csv" in page
    assert "colonne « jeux » de la ligne où « ministère » vaut « Culture »" in page
    assert "toutes les 6 heures" in page
    assert "2 mars 2020" in page
    assert "og-source-failing" not in page

    type(indicator).objects.filter(pk=indicator.pk).update(
        consecutive_failures=4, last_refresh_at=datetime.datetime(2020, 3, 5, 9, 30, tzinfo=datetime.UTC)
    )
    page = client.get(indicator.get_absolute_url()).content.decode()
    assert "Les 4 dernières lectures de sa source ont échoué" in page
    assert "5 mars 2020" in page
