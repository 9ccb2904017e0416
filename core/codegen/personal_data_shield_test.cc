#include "core/codegen/personal_data_shield.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::codegen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const PersonalDataShield> Shield() {
  std::vector<data::PersonalColumn> columns = {
      {"clients", "first_name", {"Olivia", "Mei", "Max", "May", "Bo", "J", "Anne Marie"}},
      {"clients", "last_name", {"Ashbury", "O'Brien", "Price", "van der Berg"}},
      {"clients", "email", {"olivia.ashbury.12@example.com", "jsmith1987@gmail.com"}},
      {"clients", "phone", {"+1-555-123-4567", "(555) 987 6543"}},
      {"clients", "postal_code", {"DEMO-03", "90210", "2025"}},
      {"patients", "name", {"Biscuit", "Mochi", "Max"}},
  };
  return std::make_shared<const PersonalDataShield>(columns);
}

std::string Hide(absl::string_view text) {
  PersonalDataShield::Redaction r(Shield());
  return r.Hide(text);
}

TEST(PersonalDataShieldTest, NamesInAQuestionBecomePlaceholders) {
  PersonalDataShield::Redaction r(Shield());
  EXPECT_EQ(r.Hide("How much did Olivia Ashbury spend last year?"),
            "How much did <client_first_name_1> <client_last_name_1> spend last year?");
  // The same value keeps its placeholder across the texts of one request.
  EXPECT_EQ(r.Hide("and OLIVIA's pets, Mochi and Biscuit?"),
            "and <client_first_name_1>'s pets, <patient_name_1> and <patient_name_2>?");
  EXPECT_EQ(r.hidden(), 4u);
}

TEST(PersonalDataShieldTest, QuotedUnquotedJoinedAndInsideWords) {
  EXPECT_EQ(Hide("KeyError: 'Ashbury'"), "KeyError: '<client_last_name_1>'");
  EXPECT_EQ(Hide("OliviaAshbury"), "<client_first_name_1><client_last_name_1>");
  EXPECT_EQ(Hide("ashbury12"), "<client_last_name_1>12");
  EXPECT_EQ(Hide("xxAshburyxx"), "xx<client_last_name_1>xx");
  EXPECT_EQ(Hide("O'Brien and O Brien"), "<client_last_name_1> and <client_last_name_1>");
  EXPECT_EQ(Hide("Van  der Berg"), "<client_last_name_1>");
  EXPECT_EQ(Hide("Anne-Marie"), "<client_first_name_1>");
}

TEST(PersonalDataShieldTest, EmailsIntactOrRewritten) {
  EXPECT_EQ(Hide("mail olivia.ashbury.12@example.com now"), "mail <client_email_1> now");
  const std::string rewritten = Hide("olivia.ashbury.12 at example dot com");
  EXPECT_THAT(rewritten, Not(HasSubstr("olivia")));
  EXPECT_THAT(rewritten, Not(HasSubstr("ashbury")));
  EXPECT_EQ(Hide("jsmith1987 (at) gmail"), "<client_email_1> (at) gmail");
}

TEST(PersonalDataShieldTest, PhonesHoweverWritten) {
  for (const char* written : {"+1-555-123-4567", "+1 (555) 123-4567", "5551234567", "555.123.4567",
                              "call 1234567", "15551234567"}) {
    SCOPED_TRACE(written);
    const std::string hidden = Hide(written);
    EXPECT_THAT(hidden, HasSubstr("<client_phone_1>"));
    EXPECT_THAT(hidden, Not(HasSubstr("4567")));
  }
  EXPECT_EQ(Hide("555 987 6543, 555-123-4567"), "<client_phone_1>, <client_phone_2>");
  // Not a phone: too few digits, or digits of no client.
  EXPECT_EQ(Hide("top 10 in 2025 for $1,234.50"), "top 10 in 2025 for $1,234.50");
  EXPECT_EQ(Hide("invoice 8889990001"), "invoice 8889990001");
}

TEST(PersonalDataShieldTest, WordsOfTheProductsOwnLanguageAreNotHidden) {
  // A pet called Max, a client called May Price, a postal code 2025: the
  // question still means what it says.
  EXPECT_EQ(Hide("What was the max revenue in May 2025 by unit price?"),
            "What was the max revenue in May 2025 by unit price?");
  EXPECT_EQ(Hide("Is Bo a J?"), "Is <client_first_name_1> a J?");
  // A value of several words is hidden even when its words are common.
  PersonalDataShield shield({{"clients", "first_name", {"May Price"}}});
  PersonalDataShield::Redaction r(std::make_shared<const PersonalDataShield>(shield));
  EXPECT_EQ(r.Hide("May Price spent most in May"), "<client_first_name_1> spent most in May");
  EXPECT_EQ(Hide("postal code DEMO 03 and 90210"),
            "postal code <client_postal_code_1> and <client_postal_code_2>");
}

TEST(PersonalDataShieldTest, CodeIsHiddenOnlyInLiteralsAndComments) {
  PersonalDataShield::Redaction r(Shield());
  const std::string code =
      "x = clients[clients.last_name == \"O'Brien\"]  # Olivia's\n"
      "top = x.amount.max()\n"
      "print(f'{top} for Mochi')\n";
  EXPECT_EQ(r.HideInCode(code),
            "x = clients[clients.last_name == \"<client_last_name_1>\"]  # "
            "<client_first_name_1>'s\n"
            "top = x.amount.max()\n"
            "print(f'{top} for <patient_name_1>')\n");
}

TEST(PersonalDataShieldTest, RevealPutsValuesBackAsPythonNeedsThem) {
  PersonalDataShield::Redaction r(Shield());
  ASSERT_EQ(r.Hide("O'Brien, van der Berg"), "<client_last_name_1>, <client_last_name_2>");
  EXPECT_EQ(r.Reveal("a = clients.last_name == '<client_last_name_1>'\n"),
            "a = clients.last_name == 'O\\'Brien'\n");
  EXPECT_EQ(r.Reveal("b = \"\"\"<client_last_name_2>\"\"\"\n"), "b = \"\"\"van der Berg\"\"\"\n");
  EXPECT_EQ(r.Reveal("c = <client_last_name_1>  # for <client_last_name_1>\n"),
            "c = \"O\\'Brien\"  # for O'Brien\n");
  EXPECT_EQ(r.Reveal("d = f'{n} <client_last_name_2>'\n"), "d = f'{n} van der Berg'\n");
  // A placeholder this request did not hand out stays as written.
  EXPECT_EQ(r.Reveal("e = '<client_last_name_9>' < 3 > 2\n"),
            "e = '<client_last_name_9>' < 3 > 2\n");
}

TEST(PersonalDataShieldTest, ANullShieldHidesNothing) {
  PersonalDataShield::Redaction r(nullptr);
  EXPECT_EQ(r.Hide("Olivia Ashbury"), "Olivia Ashbury");
  EXPECT_EQ(r.Reveal("'<client_first_name_1>'"), "'<client_first_name_1>'");
}

TEST(PersonalDataShieldTest, OneShieldPerSetOfValues) {
  auto values = std::make_shared<const std::vector<data::PersonalColumn>>(
      std::vector<data::PersonalColumn>{{"patients", "name", {"Biscuit"}}});
  auto a = PersonalDataShield::For(values);
  EXPECT_EQ(a, PersonalDataShield::For(values));
  EXPECT_EQ(a->size(), 1u);
  EXPECT_EQ(PersonalDataShield::For(nullptr), nullptr);
}

}  // namespace
}  // namespace vet::codegen
