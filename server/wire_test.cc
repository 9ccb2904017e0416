// CheckWire and ParseRequest on hand-made encodings: every string at any
// depth is checked and named by its path, what protobuf does not parse is
// not checked, and bytes that are not a message are refused saying why.
#include "server/wire.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"
#include "tests/testing/protobuf_wire.h"
#include "tests/testing/status_matchers.h"
#include "vetanalytics/v1/analytics.pb.h"

namespace vet::server {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::Len;
using ::vet::testing::ProtobufLogCounter;
using ::vet::testing::StatusIs;
using ::vet::testing::Tag;
using ::vet::testing::Varint;
using ::vet::testing::VarintField;

constexpr absl::string_view kBadByte = "\xFF";
// U+D800 encoded: a surrogate, which UTF-8 forbids.
constexpr absl::string_view kSurrogate = "\xED\xA0\x80";

template <typename Message>
absl::Status Check(absl::string_view wire) {
  return CheckWire(*Message::descriptor(), wire);
}

grpc::ByteBuffer Buffer(absl::string_view bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

TEST(CheckWireTest, AcceptsWhatTheClientsSend) {
  v1::AskRequest ask;
  ask.set_practice_id("demo");
  ask.set_question("Combien avons-nous facturé en août ? 🐕");
  ask.set_as_of_date("2026-10-26");
  EXPECT_THAT(Check<v1::AskRequest>(ask.SerializeAsString()), IsOk());

  v1::ImportChunk chunk;
  chunk.mutable_table()->set_table("clients");
  chunk.mutable_table()->set_data("id,name\n1,Zoë\n");
  EXPECT_THAT(Check<v1::ImportChunk>(chunk.SerializeAsString()), IsOk());
  EXPECT_THAT(Check<v1::ImportChunk>(""), IsOk());
}

TEST(CheckWireTest, NamesATopLevelStringAndTheByteWhereItGoesWrong) {
  const std::string wire = Len(1, "demo") + Len(2, absl::StrCat("How much in Ju", kBadByte, "ly"));
  EXPECT_THAT(Check<v1::AskRequest>(wire), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    Eq("question is not valid UTF-8 (byte 14)")));
  EXPECT_THAT(
      Check<v1::AskRequest>(Len(1, "demo") + Len(3, kSurrogate)),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("session_id is not valid UTF-8 (byte 0)")));
}

TEST(CheckWireTest, NamesAStringInASubMessageByItsPath) {
  // ImportChunk.header (a oneof member) .mapping_json
  const std::string wire = Len(1, Len(1, "demo") + Len(2, absl::StrCat("{\"a\":\"", kBadByte)));
  EXPECT_THAT(Check<v1::ImportChunk>(wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("header.mapping_json is not valid UTF-8 (byte 6)")));
}

TEST(CheckWireTest, NamesRepeatedFieldsByTheirIndex) {
  // DatasetDescription.tables[1].columns[1].allowed_values[1]
  const std::string good_column = Len(1, "species") + Len(7, "dog") + Len(7, "cat");
  const std::string bad_column = Len(1, "sex") + Len(7, "F") + Len(7, kSurrogate);
  const std::string wire = Len(3, Len(1, "clients") + Len(4, good_column)) +
                           Len(3, Len(1, "patients") + Len(4, good_column) + Len(4, bad_column));
  EXPECT_THAT(Check<v1::DatasetDescription>(wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("tables[1].columns[1].allowed_values[1] is not valid UTF-8 (byte 0)")));
}

TEST(CheckWireTest, ChecksMapKeysAndValues) {
  // Budget.spent_by_model_micros: map<string, int64>, entries {key = 1, value = 2}.
  const std::string key_wire = Len(13, Len(1, "gpt-4o") + VarintField(2, 5)) +
                               Len(13, Len(1, absl::StrCat("gpt", kBadByte)) + VarintField(2, 7));
  EXPECT_THAT(Check<v1::Budget>(key_wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("spent_by_model_micros[1].key is not valid UTF-8 (byte 3)")));
  // Struct.fields: map<string, Value>; Value.string_value = 3.
  const std::string value_wire = Len(1, Len(1, "name") + Len(2, Len(3, kBadByte)));
  EXPECT_THAT(Check<google::protobuf::Struct>(value_wire),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("fields[0].value.string_value is not valid UTF-8 (byte 0)")));
}

TEST(CheckWireTest, SkipsWhatProtobufDoesNotParse) {
  // Fields AskRequest does not have, of every wire type, with bytes that are
  // not UTF-8: protobuf keeps them as unknown fields.
  const std::string unknown = Len(99, kBadByte) + VarintField(98, 300) + Tag(97, 5) +
                              std::string(4, '\xFF') + Tag(96, 1) + std::string(8, '\xFF');
  EXPECT_THAT(Check<v1::AskRequest>(Len(1, "demo") + unknown), IsOk());
  // A string field sent as a varint: protobuf keeps it as unknown too.
  EXPECT_THAT(Check<v1::AskRequest>(VarintField(2, 7)), IsOk());
  v1::AskRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(VarintField(2, 7)));
  EXPECT_EQ(parsed.question(), "");
  // Bytes fields: Artifact.data in an AskEvent, TableChunk.data in an import.
  EXPECT_THAT(Check<v1::AskEvent>(Len(14, Len(1, "chart.png") + Len(3, "\x89PNG\xFF\xFE"))),
              IsOk());
  EXPECT_THAT(Check<v1::ImportChunk>(Len(2, Len(1, "clients") + Len(2, kSurrogate))), IsOk());
}

TEST(CheckWireTest, RefusesBytesThatAreNotAMessageSayingWhy) {
  auto refused = [](absl::string_view wire) { return Check<v1::AskRequest>(wire); };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(refused(Tag(2, 2) + Varint(10) + "abc"),
              StatusIs(kInvalid, Eq("request is not a valid AskRequest message: field 2 runs "
                                    "past the end of its message (byte 0)")));
  EXPECT_THAT(refused(Len(1, "demo") + Tag(5, 3) + Tag(5, 4)),
              StatusIs(kInvalid, Eq("request is not a valid AskRequest message: field 5 is a "
                                    "group, which proto3 has not (byte 6)")));
  EXPECT_THAT(refused(Tag(5, 4)), StatusIs(kInvalid, HasSubstr("field 5 is a group")));
  EXPECT_THAT(refused(Tag(5, 7) + "x"),
              StatusIs(kInvalid, HasSubstr("field 5 has wire type 7, which does not exist")));
  EXPECT_THAT(refused(Tag(0, 0) + Varint(1)), StatusIs(kInvalid, HasSubstr("field number 0")));
  EXPECT_THAT(refused(Tag(4, 0) + "\x80\x80"),
              StatusIs(kInvalid, HasSubstr("field 4 has a malformed varint (byte 0)")));
  EXPECT_THAT(refused(Tag(4, 0) + std::string(11, '\x80') + "\x01"),
              StatusIs(kInvalid, HasSubstr("field 4 has a malformed varint")));
  EXPECT_THAT(refused(Tag(4, 1) + "1234567"), StatusIs(kInvalid, HasSubstr("runs past the end")));
  EXPECT_THAT(refused(Tag(4, 5) + "123"), StatusIs(kInvalid, HasSubstr("runs past the end")));
  EXPECT_THAT(refused("\x80"), StatusIs(kInvalid, HasSubstr("malformed field tag (byte 0)")));
  // A field that fits its request but not the sub-message it is in.
  const std::string header = Len(1, "demo") + Tag(2, 2) + Varint(40);
  EXPECT_THAT(Check<v1::ImportChunk>(Len(1, header) + std::string(40, 'x')),
              StatusIs(kInvalid, Eq("request is not a valid ImportChunk message: field 2 runs "
                                    "past the end of its message (byte 8)")));
}

// google.protobuf.Value nests without end: Value.list_value (6) holds
// ListValue.values (1), which are Values.
std::string NestedValue(int levels, absl::string_view innermost) {
  if (levels == 0) return Len(3, innermost);
  const std::string list = levels == 1 ? "" : Len(1, NestedValue(levels - 2, innermost));
  return Len(6, list);
}

TEST(CheckWireTest, BoundsHowDeepMessagesNest) {
  const std::string deepest_allowed = NestedValue(kMaxWireDepth, "x");
  EXPECT_THAT(Check<google::protobuf::Value>(deepest_allowed), IsOk());
  google::protobuf::Value parsed;
  EXPECT_TRUE(parsed.ParseFromString(deepest_allowed));

  EXPECT_THAT(
      Check<google::protobuf::Value>(NestedValue(kMaxWireDepth + 2, "x")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("messages nested deeper than 32")));
  // Far deeper is refused as soon as the bound is passed.
  EXPECT_THAT(Check<google::protobuf::Value>(NestedValue(2000, "x")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested deeper")));
  // The path of a string deep down.
  EXPECT_THAT(Check<google::protobuf::Value>(NestedValue(4, kBadByte)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("list_value.values[0].list_value.values[0].string_value is not valid "
                          "UTF-8 (byte 0)")));
}

// Mutations of valid encodings (bytes changed, cut, repeated) with a fixed
// seed: CheckWire passes only what protobuf's parser accepts, so that no
// request reaches protobuf's refusal (and its log line), and refuses nothing
// protobuf would take but groups and tags past 32 bits.
template <typename Message>
void ExpectAgreementWithProtobuf(const Message& valid, int rounds) {
  ProtobufLogCounter silence;
  std::mt19937 random(20260101);
  const std::string base = valid.SerializeAsString();
  ASSERT_FALSE(base.empty());
  int refused = 0;
  for (int round = 0; round < rounds; ++round) {
    std::string wire = base;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % wire.size();
      switch (random() % 4) {
        case 0:
          wire[at] = static_cast<char>(random());
          break;
        case 1:
          wire[at] = static_cast<char>(0x80 | random());
          break;
        case 2:
          wire.resize(std::max<size_t>(1, at));
          break;
        default:
          wire += wire.substr(at, 5);
      }
    }
    Message parsed;
    const bool protobuf_parses = parsed.ParseFromString(wire);
    const absl::Status checked = CheckWire(*Message::descriptor(), wire);
    refused += checked.ok() ? 0 : 1;
    if (checked.ok()) {
      EXPECT_TRUE(protobuf_parses) << "round " << round << ": " << absl::CHexEscape(wire);
    } else if (protobuf_parses) {
      // Stricter than protobuf on purpose: it keeps a group of a field it
      // does not know (proto3 has none), and cuts a 5-byte tag to 32 bits.
      EXPECT_THAT(std::string(checked.message()),
                  AnyOf(HasSubstr("is a group"), HasSubstr("malformed field tag")))
          << "round " << round << ": " << absl::CHexEscape(wire);
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(refused, rounds / 100);
  EXPECT_LT(refused, rounds - rounds / 100);
}

TEST(CheckWireTest, AgreesWithProtobufOnMutatedRequests) {
  v1::AskRequest ask;
  ask.set_practice_id("demo");
  ask.set_question("Combien en août ? 🐕 How many cats (über-fluffy) came in?");
  ask.set_session_id("00112233445566778899aabbccddeeff");
  ask.set_as_of_date("2026-10-26");
  ExpectAgreementWithProtobuf(ask, 20000);

  v1::DatasetDescription dataset;
  for (const char* table : {"clients", "patients"}) {
    v1::TableDescription* t = dataset.add_tables();
    t->set_name(table);
    t->set_row_count(1234567);
    v1::ColumnDescription* c = t->add_columns();
    c->set_name("espèce");
    c->add_allowed_values("chien");
    c->add_allowed_values("chat ✓");
  }
  ExpectAgreementWithProtobuf(dataset, 20000);

  v1::Budget budget;
  (*budget.mutable_spent_by_model_micros())["gpt-4o"] = 1234;
  (*budget.mutable_spent_by_model_micros())["modèle"] = 99;
  budget.set_soft_cap(0.8);
  ExpectAgreementWithProtobuf(budget, 20000);
}

TEST(ParseRequestTest, ParsesAValidRequest) {
  v1::AskRequest sent;
  sent.set_practice_id("demo");
  sent.set_question("revenue last month");
  absl::StatusOr<v1::AskRequest> parsed =
      ParseRequest<v1::AskRequest>(Buffer(sent.SerializeAsString()));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->question(), "revenue last month");
  EXPECT_EQ(parsed->practice_id(), "demo");
}

TEST(ParseRequestTest, RefusesInvalidUtf8BeforeProtobufSeesItSoProtobufLogsNothing) {
  const std::string wire = Len(1, "demo") + Len(2, kBadByte);
  ProtobufLogCounter log;
  EXPECT_THAT(
      ParseRequest<v1::AskRequest>(Buffer(wire)),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("question is not valid UTF-8 (byte 0)")));
  EXPECT_EQ(log.count(), 0);
  // What the check saves: protobuf refuses the same bytes with a log line.
  v1::AskRequest direct;
  EXPECT_FALSE(direct.ParseFromString(wire));
  EXPECT_EQ(log.count(), 1);
}

TEST(ParseRequestTest, ReadsARequestThatArrivedInSeveralSlices) {
  const std::string wire = Len(1, "demo") + Len(2, "revenue") + Len(3, kSurrogate);
  // Cut inside the question and inside the bad session id.
  grpc::Slice slices[] = {grpc::Slice(wire.substr(0, 9)), grpc::Slice(wire.substr(9, 8)),
                          grpc::Slice(wire.substr(17))};
  EXPECT_THAT(
      ParseRequest<v1::AskRequest>(grpc::ByteBuffer(slices, 3)),
      StatusIs(absl::StatusCode::kInvalidArgument, Eq("session_id is not valid UTF-8 (byte 0)")));
  const std::string good = Len(1, "demo") + Len(2, "revenue last month");
  grpc::Slice good_slices[] = {grpc::Slice(good.substr(0, 9)), grpc::Slice(good.substr(9))};
  absl::StatusOr<v1::AskRequest> parsed =
      ParseRequest<v1::AskRequest>(grpc::ByteBuffer(good_slices, 2));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->question(), "revenue last month");
}

TEST(ParseRequestTest, RefusesACallWithoutAMessage) {
  EXPECT_THAT(ParseRequest<v1::GetBudgetRequest>(grpc::ByteBuffer()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a valid GetBudgetRequest message: no message")));
}

TEST(SerializeMessageTest, GivesTheBytesProtobufWouldWrite) {
  v1::Budget budget;
  budget.set_practice_id("demo");
  (*budget.mutable_spent_by_model_micros())["gpt-4o"] = 1234;
  absl::StatusOr<grpc::ByteBuffer> bytes = SerializeMessage(budget);
  ASSERT_THAT(bytes, IsOk());
  grpc::Slice slice;
  ASSERT_TRUE(bytes->DumpToSingleSlice(&slice).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(slice.begin()), slice.size()),
            budget.SerializeAsString());
}

}  // namespace
}  // namespace vet::server
